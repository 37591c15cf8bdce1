/* keys.h: the emulator's public-key work: P-384 public keys (IVS playback key pairs and
 * Real-Time public keys), base64url, and the ES384 JWS signatures of participant tokens. */
#ifndef EMU_KEYS_H
#define EMU_KEYS_H

#include <stddef.h>

/* Parses a PEM public key and accepts only ECDSA P-384 (secp384r1), the curve of IVS's ES384
 * tokens. Fills fingerprint with the MD5 of the DER SubjectPublicKeyInfo as 16 colon-separated
 * lowercase hex bytes. Returns 0, or -1 with *why set to a static message. */
int emu_p384_fingerprint(const char *pem, char fingerprint[48], const char **why);

/* base64url without padding of data; malloc'd. */
char *emu_b64url_encode(const void *data, size_t len);
/* Decodes base64url (padding optional); malloc'd NUL-terminated buffer, NULL when invalid. */
unsigned char *emu_b64url_decode(const char *text, size_t len, size_t *out_len);

/* Verifies a JWS ES384 signature (raw r||s, 96 bytes) over data with a PEM P-384 public
 * key. 1 valid, 0 not. */
int emu_es384_verify(const char *pem, const void *data, size_t len, const unsigned char *sig,
                     size_t sig_len);

/* Signs data with ECDSA P-384 / SHA-384 under a key made for this signature only, and returns
 * the DER signature as base64url (malloc'd), the form of the KMS-signed tokens IVS issues:
 * nobody outside the emulator verifies them (it keeps a table of the tokens it issued). */
char *emu_kms_like_signature(const void *data, size_t len);

#endif
