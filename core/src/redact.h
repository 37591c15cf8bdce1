/* redact.h: log-safe copies of request and response material.
 * Everything the client logs goes through these first; they err on the side of masking. */
#ifndef IVS_REDACT_H
#define IVS_REDACT_H

#include <stddef.h>

#include "buf.h"
#include "ivs.h"

/*
 * Appends a log-safe copy of a JSON text to out. The values of secret members, at any depth,
 * become "***": value (stream key values), passphrase, metadata (PutMetadata payloads are
 * sensitive), privateKey, SecretAccessKey / secretAccessKey / aws_secret_access_key,
 * SessionToken / sessionToken / aws_session_token, Token / token (chat and participant
 * tokens too), password (member names compared case-insensitively; AccessKeyId is not
 * secret; a Real-Time "streamKey" member is a string starting with "rt_", see below). A null value
 * stays null. Any other string value that starts with "sk_" (an IVS stream key) or "rt_" (a
 * Real-Time one) becomes "***", and such runs inside other strings are masked too. Everything else
 * is copied byte for byte, so valid JSON in gives valid JSON out. Text that is not valid JSON (an
 * error page, a body cut short) is appended with every "sk_..." run masked and, after any quoted
 * secret member name followed by a colon, the next token masked. Redact before truncating.
 */
void redact_json(struct buf *out, const char *json, size_t len);

/* 1 when a header's value must never be logged: Authorization, Proxy-Authorization,
 * X-Amz-Security-Token, Cookie, Set-Cookie, X-aws-ec2-metadata-token (case-insensitive);
 * 0 otherwise (X-Amz-Content-Sha256, X-Amz-Date, ... are fine). */
int redact_header_is_secret(const char *name);

/*
 * Appends "Name: value" to out (no line break), masking the value when the header is
 * secret. A SigV4 Authorization header keeps its algorithm, Credential=AKID/scope and
 * SignedHeaders (useful when debugging) with only the Signature masked; other secret values
 * become "***". Values of other headers are kept, with any "sk_..." run masked.
 */
void redact_header_line(struct buf *out, const char *name, const char *value);

/*
 * Appends text[0..len) with every secret it recognises by value masked as "***": each of
 * secrets[0..nsecrets) (NULL entries and values shorter than 8 bytes are ignored: too short
 * to be a credential, too likely to mask ordinary words), PEM private key blocks (BEGIN ...
 * PRIVATE KEY through the matching END line, or to the end of the text), "sk_..." stream
 * keys starting a word, and 64-hex-digit runs (SigV4 signatures). For text the client did
 * not write itself (service messages, echoed headers) and for whole log lines, where
 * masking by member or header name cannot help. Linear in len times nsecrets.
 */
void redact_scrub(struct buf *out, const char *text, size_t len, const char *const *secrets,
                  size_t nsecrets);

/* Rewrites err's code, message and request id (all of which a service chooses) through
 * redact_scrub. err may be NULL; when memory runs out the message is replaced by a fixed
 * text rather than kept unscrubbed. */
void redact_error(struct ivs_error *err, const char *const *secrets, size_t nsecrets);

#endif
