/* identity.h: the identity services a credential chain talks to, served on the emulator's own
 * port beside IVS: STS (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity over the query
 * protocol), the IAM Identity Center portal (GetRoleCredentials), SSO-OIDC (CreateToken with the
 * refresh_token grant) and signin (CreateOAuth2Token with a DPoP proof). The temporary
 * credentials issued here are accepted by the IVS endpoints until they expire. The state lives
 * in memory only (not in --state); the admin API under /_emulator/identity/ seeds it. The rules
 * and formats are in emulator/README.md ("Identity services"). */
#ifndef EMU_IDENTITY_H
#define EMU_IDENTITY_H

#include <cJSON.h>

#include "auth.h"
#include "store.h"

struct identity;
struct sigv4_key_cache;

/* default_account owns the root keys that have no account of their own. NULL when out of
 * memory. */
struct identity *identity_new(const char *default_account);
/* NULL is accepted. */
void identity_free(struct identity *id);
/* Forgets every issued credential, role, token and session, and the clock offset. */
void identity_reset(struct identity *id);

/* Nonzero when req is addressed to an identity service rather than IVS: "/" carrying a form
 * body, an Action query parameter or an sts credential scope (STS); GET
 * /federation/credentials (portal); POST /token (SSO-OIDC); POST /v1/token (signin). */
int identity_route(const struct emu_request_view *req);

/* Nonzero for the operations served here (AssumeRole, AssumeRoleWithWebIdentity,
 * GetCallerIdentity, GetRoleCredentials, CreateToken, CreateOAuth2Token): faults can be armed
 * for them by name. */
int identity_is_operation(const char *name);

/* Serves one identity request into out. auth is the server's verifier (STS checks SigV4
 * against it with the service "sts"; NULL with --no-auth: no check, the signer's key is only
 * used to tell a role session from the default account's root), cache its per-thread key cache,
 * store supplies the faults injected for the operation's name. Returns 0, or -1 when an injected
 * fault drops the connection. */
int identity_handle(struct identity *id, const struct emu_auth *auth, struct sigv4_key_cache *cache,
                    struct store *store, const struct emu_request_view *req, const char *request_id,
                    struct emu_reply *out);

/* The admin API: method, the path below "/_emulator/identity" ("" or "/roles", ...) and the
 * parsed JSON body (NULL when absent). */
void identity_admin(struct identity *id, const char *method, const char *path, const cJSON *body,
                    struct emu_reply *out);

/* An emu_temp_lookup_fn over the credentials this module issued (ud is the identity). */
int identity_lookup(void *ud, const char *access_key_id, const char *session_token,
                    struct emu_temp_credential *out);

#endif
