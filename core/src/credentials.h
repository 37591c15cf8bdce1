/* credentials.h: the AWS credential chain, cached and refreshed before expiry.
 *
 * Order (botocore's): explicit keys from the options; anonymous; environment
 * (AWS_ACCESS_KEY_ID..., skipped when the options named a profile, as botocore does); assume
 * role (role_arn); web identity; SSO (sso_account_id / sso_role_name); static keys in the
 * shared credentials file; login_session; credential_process; static keys in the config
 * file; the container provider (ECS / EKS Pod Identity); EC2 instance metadata (IMDSv2, then
 * v1 only where allowed). A provider whose settings are present claims the request: it
 * yields credentials or fails, and the chain never goes on to the container or instance
 * metadata in its place. Secrets are overwritten before their memory is released and never
 * appear in messages. */
#ifndef IVS_CREDENTIALS_H
#define IVS_CREDENTIALS_H

#include <stdint.h>

#include "config.h"
#include "ivs.h"

struct credentials {
    char *access_key_id, *secret_access_key, *session_token; /* token NULL for long-term keys */
    int64_t expires_ms;                                      /* Unix epoch ms; 0 = never */
    const char *provider; /* static name: "explicit", "environment", "assume-role",
                             "assume-role-with-web-identity", "sso", "shared-credentials-file",
                             "login", "process", "config-file", "container", "imds" */
    char *detail;         /* where they came from, never a secret ("profile 'dev' in
                             /home/u/.aws/credentials"); may be NULL */
};

struct cred_chain;

/* Credentials are refreshed when they expire within this margin. */
#define CRED_REFRESH_MARGIN_MS (5 * 60 * 1000)

/*
 * Creates a chain. cfg must outlive the chain (the client owns both); the explicit keys of
 * opts are copied. A lone access_key_id or secret_access_key, or a session_token without
 * them, is IVS_ERR_CONFIG "InvalidConfig". Nothing is resolved yet.
 */
enum ivs_status cred_chain_new(const struct ivs_client_options *opts, const struct ivs_config *cfg,
                               struct cred_chain **out, struct ivs_error *err);

/* Releases the chain and wipes the cached secrets. NULL is accepted. */
void cred_chain_free(struct cred_chain *c);

/*
 * The credentials to sign with at now_ms (Unix epoch ms), resolved on first use and cached;
 * refreshed when within CRED_REFRESH_MARGIN_MS of expiry (credentials still valid are kept
 * if a refresh fails). *out is owned by the chain and valid until the next call. Anonymous
 * clients get IVS_OK with *out == NULL. Errors are IVS_ERR_CREDENTIALS with the codes
 * "NoCredentials" (the message lists every provider and why it gave nothing),
 * "PartialCredentials", "CredentialProcessError", "ContainerCredentialsError",
 * "ExpiredCredentials".
 */
enum ivs_status cred_chain_get(struct cred_chain *c, int64_t now_ms, const struct credentials **out,
                               struct ivs_error *err);

/* The instance metadata base URL (no trailing "/") the chain would ask, resolved from the
 * same settings as the provider: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the endpoint mode,
 * else the legacy AWS_IMDS_USE_IPV6 / imds_use_ipv6. Nothing is contacted. Returns a malloc'd
 * string, or NULL with the reason appended to why. */
struct buf;
char *cred_imds_endpoint(const struct cred_chain *c, struct buf *why);

/* Fills out with copies (token NULL or "" for none); IVS_ERR_NOMEM leaves it empty. For the
 * providers that live in other files. */
enum ivs_status cred_set(struct credentials *out, const char *key_id, const char *secret,
                         const char *token, int64_t expires_ms, const char *provider,
                         struct ivs_error *err);

/* Reads a whole file that holds a secret (at most max bytes; the buffer is wiped as it grows).
 * Returns 0 (*out NUL-terminated, caller wipes and frees), or -1 with errno set (EINVAL for
 * anything but a regular file: a FIFO is refused, never waited on). */
int cred_read_secret_file(const char *path, size_t max, char **out, size_t *len_out);

/* Sends one line per credential resolution or failed refresh (which provider, from which
 * profile or file, the access key id masked, the expiry; never a secret) to fn. */
void cred_chain_set_log(struct cred_chain *c, void (*fn)(void *ud, const char *line), void *ud);

/* The access key id with all but its last four characters replaced by '*' (at most n - 1
 * bytes written). */
void cred_mask_key(const char *key_id, char *out, size_t n);

/* Unix epoch ms as "YYYY-MM-DDTHH:MM:SSZ". */
void cred_format_time(int64_t ms, char *out, size_t n);

/* Bounds how long a credential_process may run before it is killed (default 60 s); for hosts
 * with tighter deadlines, and for tests. */
void cred_chain_set_process_timeout(struct cred_chain *c, long timeout_ms);

/*
 * The container provider's URL: "http://169.254.170.2" + relative_uri when relative_uri is
 * set (it wins), else full_uri if its host is allowed (any host over https; over http only
 * loopback addresses, localhost, 169.254.170.2, 169.254.170.23 and fd00:ec2::23). *url is
 * NULL (and IVS_OK returned) when neither is set; the caller frees it. A disallowed or
 * malformed full_uri is IVS_ERR_CREDENTIALS "ContainerCredentialsError".
 */
enum ivs_status cred_container_url(const char *relative_uri, const char *full_uri, char **url,
                                   struct ivs_error *err);

/* The JSON credential documents, each read as its provider reads it. */
enum cred_document {
    CRED_DOC_PROCESS,   /* credential_process stdout: Version 1, SessionToken */
    CRED_DOC_CONTAINER, /* the container endpoint's answer: Token */
    CRED_DOC_IMDS,      /* IMDS security-credentials/<role>: Code, Token */
};

struct buf;

/*
 * Parses len bytes of a credential document. Returns IVS_OK with *out filled when it is
 * usable; IVS_OK with *out zeroed and a reason in why (never quoting a secret) when it is not;
 * an error (out of memory) otherwise. The parsed text is wiped before it is released. The
 * providers call this on what they receive; it is also the fuzzing entry point.
 */
enum ivs_status cred_parse_document(enum cred_document kind, const char *text, size_t len,
                                    struct credentials *out, struct buf *why,
                                    struct ivs_error *err);

/* Adds what the chain resolves to at now_ms to obj (resolving if needed): credential_provider,
 * credential_source (profile / file / role, never a secret), access_key_id with all but the
 * last four characters masked, session_token (a boolean), expires_at (ISO 8601 or null); or
 * credential_provider null with credential_error_code and credential_error. */
struct cJSON;
void cred_chain_describe(struct cred_chain *c, int64_t now_ms, struct cJSON *obj);

/* STS GetCallerIdentity signed with the chain's credentials: *out is {"UserId", "Account",
 * "Arn"} (caller deletes). STS's errors are IVS_ERR_SERVICE with its code. */
enum ivs_status cred_chain_whoami(struct cred_chain *c, int64_t now_ms, struct cJSON **out,
                                  struct ivs_error *err);

/* Parses an ISO 8601 / RFC 3339 time ("2024-05-01T12:00:00Z", fractions and ±hh:mm offsets
 * allowed; no zone means UTC) into Unix epoch ms. Returns 0 on success, -1 when malformed. */
int cred_parse_time(const char *text, int64_t *ms_out);

#endif
