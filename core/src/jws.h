/* jws.h: what the ES384 tokens of the family share (jws.c): playback tokens
 * (playback_token.c) and self-signed Real-Time participant and connection tokens
 * (participant_token.c). */
#ifndef IVS_JWS_H
#define IVS_JWS_H

#include <stddef.h>

#include "buf.h"
#include "ivs.h"

/* The longest ARN the IVS models accept. */
#define JWS_ARN_MAX_LEN 128

/* The error code of a key that is not an unencrypted PEM P-384 private key. */
#define JWS_KEY_ERROR "InvalidPrivateKey"

/* Appends base64url without padding (RFC 7515 section 2). */
void jws_base64url(struct buf *out, const unsigned char *data, size_t len);

/* The number of code points in s, or -1 when s is not valid UTF-8 (JSON text must be). */
long jws_utf8_length(const char *s);

/* Whether s[0..len) is all [a-z0-9-] (and [A-Z] when allow_upper). */
int jws_arn_chars(const char *s, size_t len, int allow_upper);

/* Whether arn is arn:aws:<service>:<region [a-z0-9-]+>:<account [0-9]+>:<type>/<id
 * [a-zA-Z0-9-]+>, at most 128 characters: the models' ARN patterns for one resource type. */
int jws_is_ivs_arn(const char *arn, const char *service, const char *type);

/* Adds one problem to a "; "-separated list of them. */
void jws_problem(struct buf *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Signs a compact JWS: base64url(header_json) "." base64url(payload_json) "." signature,
 * ES384 (ECDSA P-384 over SHA-384, the signature as r || s). private_key_pem is an EC P-384
 * private key in PEM (SEC1 or unencrypted PKCS#8) of pem_len bytes. Fails with
 * IVS_ERR_VALIDATION "InvalidPrivateKey" (the message never quotes the key). *token_out is
 * freed with ivs_free().
 */
enum ivs_status jws_sign_es384(const char *private_key_pem, size_t pem_len, const char *header_json,
                               const char *payload_json, char **token_out, struct ivs_error *err);

#endif
