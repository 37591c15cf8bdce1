/* identity_http.h: the wire of the identity services the credential chain talks to.
 *
 *  - Endpoints of STS, the SSO portal, SSO-OIDC and signin, resolved as botocore resolves them
 *    for a nested client: a configured endpoint first (AWS_ENDPOINT_URL_<SERVICE>,
 *    AWS_ENDPOINT_URL, `[services x] <service> = endpoint_url`, the profile's endpoint_url,
 *    all off with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), else the partition's host for the
 *    region; STS also honours sts_regional_endpoints = legacy (the global endpoint).
 *  - STS's query protocol: a form-encoded POST, SigV4 or unsigned, retried like any call, its
 *    XML answer read with expat into (path, text) leaves.
 *  - JSON calls (SSO portal, SSO-OIDC, signin) with the same retries.
 * Every buffer that may hold a secret (request bodies with tokens, response bodies with keys)
 * is wiped before it is released; no message quotes a body. */
#ifndef IVS_IDENTITY_HTTP_H
#define IVS_IDENTITY_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "ivs.h"

/* What the calls need from their client: its settings and its sleep hook (for backoff). */
struct ident_ctx {
    const struct ivs_config *cfg;
    ivs_sleep_fn sleep; /* NULL: nanosleep */
    void *sleep_ud;
};

enum ident_service { IDENT_STS, IDENT_SSO, IDENT_SSO_OIDC, IDENT_SIGNIN };

/*
 * The endpoint of an identity service for `region` (the client's region for STS and signin,
 * sso_region for SSO and SSO-OIDC). *url (no trailing "/") and *signing_region are freed by
 * the caller; *source names where the URL came from ("AWS_ENDPOINT_URL_STS", ...,
 * "default"). Errors: IVS_ERR_CONFIG "InvalidConfig" (a bad sts_regional_endpoints) or
 * "InvalidEndpoint".
 */
enum ivs_status ident_endpoint(const struct ivs_config *cfg, enum ident_service svc,
                               const char *region, char **url, char **signing_region,
                               const char **source, struct ivs_error *err);

/* Appends `value` form-encoded (application/x-www-form-urlencoded: space as '+', only
 * A-Z a-z 0-9 - _ . ~ literal). */
void ident_form_encode(struct buf *out, const char *value);

/* The leaves of an XML document: for every element without child elements, its path
 * ("AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId") and its text. */
struct xml_doc {
    struct xml_leaf {
        char *path;
        char *text;
    } * leaves;
    size_t count, cap;
};

/* Parses with expat. Returns 0, or -1 when the text is not well-formed XML (or memory ran
 * out); the document is then empty. Release with xml_doc_free(), which wipes the texts. */
int xml_doc_parse(struct xml_doc *doc, const char *text, size_t len);
void xml_doc_free(struct xml_doc *doc);

/* The text of the first leaf whose path ends with "/" + suffix (or equals it); NULL if none. */
const char *xml_doc_get(const struct xml_doc *doc, const char *suffix);

struct ident_signer {
    const char *access_key_id, *secret_access_key, *session_token;
};

/*
 * One STS query call: POSTs `form` (already encoded, "Action=...&Version=2011-06-15&...") to
 * the STS endpoint, signed with `signer` (NULL: unsigned, as AssumeRoleWithWebIdentity is).
 * On HTTP 200 the XML answer is in *out. An error answer becomes err with kind `fail_kind`,
 * STS's Code as the code, and a message naming the operation and `context`; a body that is
 * not XML is a clear error as well ("InvalidResponse" on 200, the HTTP status name otherwise).
 */
enum ivs_status ident_sts_call(const struct ident_ctx *ctx, const char *action, const char *form,
                               const struct ident_signer *signer, const char *context,
                               enum ivs_status fail_kind, struct xml_doc *out,
                               struct ivs_error *err);

/*
 * One JSON call to an unsigned identity endpoint (SSO portal, SSO-OIDC, signin).
 * method "GET" or "POST"; url absolute; body NULL for none (else sent as application/json);
 * headers extra (bearer token, DPoP). On HTTP 2xx *out is the parsed object. Failures come
 * back as IVS_ERR_SERVICE with the error type (x-amzn-ErrorType or the body's error/__type)
 * as code and err->status set; *out_error_field receives the body's "error" member (signin's
 * OAuth2 code) when the caller wants it (may be NULL; caller frees).
 */
struct cJSON;
enum ivs_status ident_json_call(const struct ident_ctx *ctx, const char *method, const char *url,
                                const struct ivs_header *headers, size_t header_count,
                                const char *body, struct cJSON **out, char **out_error_field,
                                struct ivs_error *err);

/* Deletes a parsed JSON document after overwriting its strings (they may be secrets). */
void ident_json_wipe_delete(struct cJSON *j);

#endif
