/*
 * ivs.h: libivs, a small C client for Amazon Interactive Video Service (IVS).
 *
 * libivs signs requests with SigV4, sends them over libcurl with keep-alive, resolves the
 * standard AWS configuration (profiles, environment, config files) and credential chain,
 * retries in the AWS "standard" mode, and knows every operation of the IVS family from
 * tables generated from the service models: low-latency IVS ("ivs"), IVS Chat ("ivschat")
 * and IVS Real-Time ("ivs-realtime"), all 2020-07-14. A client calls one service, chosen
 * when it is made (ivs_client_options.service).
 *
 * Conventions (they hold for every function below unless its comment says otherwise):
 *  - Handles are opaque. Each `_new` has a `_free` that accepts NULL.
 *  - Strings passed in are copied; the caller keeps ownership of what it passes.
 *  - Strings and buffers handed out through `char **` parameters belong to the caller, who
 *    releases them with ivs_free().
 *  - Functions that can fail return an `enum ivs_status` (IVS_OK on success) and fill the
 *    optional `struct ivs_error *` (may be NULL). Clear it with ivs_error_clear() before reuse.
 *  - Threads: nothing here touches mutable global state except ivs_global_init(). A client
 *    may be used by one thread at a time; different clients may be used on different
 *    threads at once.
 *  - Secrets (secret keys, session tokens, SSO access and refresh tokens, web identity
 *    tokens, DPoP keys, MFA codes, stream keys, private keys, Authorization headers) never
 *    appear in error messages or log lines.
 */
#ifndef IVS_H
#define IVS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IVS_VERSION_MAJOR 0
#define IVS_VERSION_MINOR 1
#define IVS_VERSION_PATCH 0
#define IVS_VERSION "0.1.0"

#if defined(__GNUC__) && __GNUC__ >= 4
#define IVS_API __attribute__((visibility("default")))
#else
#define IVS_API
#endif

/*
 * Status codes, which double as the "kind" of an error. The numbers are stable: a code may
 * be retired but its slot is never reused.
 */
enum ivs_status {
    IVS_OK = 0,
    IVS_ERR_VALIDATION = 1,  /* the request breaks the API model; nothing was sent */
    IVS_ERR_CONFIG = 2,      /* region, endpoint, profile or option problem */
    IVS_ERR_CREDENTIALS = 3, /* no usable credentials, or a provider failed */
    IVS_ERR_NETWORK = 4,     /* connection refused/reset, DNS, TLS */
    IVS_ERR_TIMEOUT = 5,     /* connect or total timeout */
    IVS_ERR_SERVICE = 6,     /* the service answered with an error status */
    IVS_ERR_USAGE = 7,       /* misuse of the library: NULL argument, unknown operation */
    IVS_ERR_NOMEM = 8,       /* out of memory */
    IVS_ERR_INTERNAL = 9,    /* unexpected response shape or library bug */
    IVS_ERR_CANCELLED = 10   /* a non-blocking call was cancelled before it completed */
};

/* The library version string, e.g. "0.1.0". */
IVS_API const char *ivs_version(void);

/*
 * The one process-wide step: initialises libcurl. Idempotent and safe to call from several
 * threads (it runs once). ivs_client_new() calls it, so a program never has to, unless it
 * wants libcurl initialised before it starts threads of its own (libcurl's own advice).
 * Returns 0 the first time it did the work, 1 when it had already been done, -1 on failure.
 */
IVS_API int ivs_global_init(void);

/* A stable lowercase name for a status: "ok", "validation", "config", "credentials",
 * "network", "timeout", "service", "usage", "nomem", "internal", "cancelled". */
IVS_API const char *ivs_status_name(enum ivs_status status);

/*
 * One failure. Every string is owned by the error and released by ivs_error_clear().
 * Initialise with `struct ivs_error err = {0};`.
 *  kind        what went wrong, as a status (never IVS_OK once set)
 *  code        a stable code: the service's error type ("ResourceNotFoundException") or
 *              the library's own ("ParamValidationError", "NoRegion", "NoCredentials",
 *              "ConnectionError", "Timeout", ...)
 *  message     one human sentence; never contains a secret
 *  status      HTTP status of the last response, 0 when none was received
 *  request_id  the service's x-amzn-RequestId, NULL when none
 *  retryable   nonzero when the failure is of a retryable class (whether or not retries
 *              were left)
 *  attempts    how many attempts were made (0 when nothing was sent)
 */
struct ivs_error {
    enum ivs_status kind;
    char *code;
    char *message;
    long status;
    char *request_id;
    int retryable;
    int attempts;
};

/* An empty struct ivs_error, for C and C++ alike (g++ -Wextra warns about `= {0}`):
 * `struct ivs_error err = IVS_ERROR_INIT;` */
#define IVS_ERROR_INIT                                                                             \
    {                                                                                              \
        IVS_OK, NULL, NULL, 0, NULL, 0, 0                                                          \
    }

/* Releases the strings of an error and zeroes it; NULL is accepted. */
IVS_API void ivs_error_clear(struct ivs_error *err);

/* Releases memory handed out by this library (response bodies, URLs). NULL is accepted. */
IVS_API void ivs_free(void *ptr);

/* ---------------------------------------------------------------------------------------
 * Hooks. All optional; each receives the `ud` pointer set beside it in the options.
 * ------------------------------------------------------------------------------------- */

enum ivs_log_level { IVS_LOG_ERROR = 0, IVS_LOG_WARN = 1, IVS_LOG_INFO = 2, IVS_LOG_DEBUG = 3 };

/* Receives one log line (no trailing newline), already redacted of secrets. It runs in the
 * middle of a call: it must not call, start, poll, cancel or free on the client that logs. */
typedef void (*ivs_log_fn)(void *ud, enum ivs_log_level level, const char *line);

/* Looks up an environment variable; returns NULL when unset. Lets hosts and tests supply an
 * environment other than the process's own. */
typedef const char *(*ivs_getenv_fn)(void *ud, const char *name);

/* Wall-clock time in milliseconds since the Unix epoch. */
typedef int64_t (*ivs_clock_fn)(void *ud);

/* Sleeps (or pretends to) for a number of milliseconds, between retry attempts. */
typedef void (*ivs_sleep_fn)(void *ud, int64_t ms);

/* A uniformly distributed number in [0, 1), used for retry jitter. */
typedef double (*ivs_random_fn)(void *ud);

/*
 * Supplies the current code of the MFA device `serial` (the mfa_serial of an assume-role
 * profile) each time that role is assumed: on first use and on every refresh. Write a
 * NUL-terminated code (at most size - 1 bytes) into `code` and return 0; return nonzero to
 * refuse, and the credentials fail with "MfaTokenRequired". It runs on the thread that
 * resolves credentials, in the middle of a call: it must not use the client.
 */
typedef int (*ivs_mfa_token_fn)(void *ud, const char *serial, char *code, size_t size);

/* ---------------------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------------------- */

/*
 * Options for ivs_client_new(). Zero-initialise (or call ivs_client_options_init()) and set
 * what you need; every zero/NULL field means "resolve it the standard AWS way" (explicit
 * value, then environment, then the profile in the shared config files, then the default).
 * Tri-state integers (use_fips_endpoint, use_dualstack_endpoint): 0 = not set, > 0 = on,
 * < 0 = off.
 */
/*
 * ABI rule for the option structs the caller allocates (struct ivs_client_options): fields are
 * only ever appended, and the first field, struct_size, tells the library how large the
 * caller's struct is. ivs_client_options_init() is a macro that passes sizeof of the caller's
 * struct, so a program built against an older ivs.h and run with a newer libivs is read only
 * up to its own last field (the newer fields take their defaults), and a program built against
 * a newer ivs.h that sets fields an older libivs does not know gets IVS_ERR_USAGE
 * ("OptionsTooNew") instead of having them ignored. A struct that was only zeroed (`= {0}`,
 * memset: struct_size 0) is read with this library's own layout, as before: such a program
 * must be rebuilt for every new libivs. Until 1.0 the soname (libivs.so.0) may still change
 * when a struct is reordered. Times are in seconds (double) and counts are plain numbers;
 * each field's comment names its unit.
 */
struct ivs_client_options {
    size_t struct_size;   /* set by ivs_client_options_init(); see the ABI rule above */
    const char *region;   /* e.g. "us-west-2"; no region anywhere is an IVS_ERR_CONFIG error */
    const char *endpoint; /* full URL, e.g. "http://127.0.0.1:4566"; wins over everything */
    const char *profile;  /* profile name; default AWS_PROFILE, then "default" */

    /* Explicit credentials: used as they are when access_key_id and secret are set. */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    int anonymous; /* nonzero: send requests unsigned */

    double timeout;         /* seconds for a whole attempt; 0 = 60 */
    double connect_timeout; /* seconds to connect; 0 = 10 (never more than timeout) */
    int close_connection;   /* nonzero: do not reuse connections between calls */
    int max_attempts;       /* total attempts including the first; 0 = resolve (default 3) */
    const char *retry_mode; /* "standard", "legacy" or "adaptive"; NULL = resolve ("standard") */
    const char *ca_bundle;  /* CA file for TLS; NULL = AWS_CA_BUNDLE, profile, system */
    int use_fips_endpoint;
    int use_dualstack_endpoint;
    const char *app_id; /* appended to the User-Agent; NULL = AWS_SDK_UA_APP_ID, profile */

    ivs_log_fn log; /* NULL = no logging unless IVS_LOG=1|debug in the environment (stderr) */
    void *log_ud;
    ivs_getenv_fn getenv; /* NULL = the process environment */
    void *getenv_ud;
    ivs_clock_fn clock;   /* NULL = the real clock */
    ivs_sleep_fn sleep;   /* NULL = nanosleep */
    ivs_random_fn random; /* NULL = a per-client generator */
    void *hooks_ud;       /* passed to clock, sleep and random */

    /* Added in 0.1 for non-blocking calls (fields are only ever appended). */
    int max_connections; /* connections open at once for non-blocking calls; 0 = 32 */

    /* Added for assume-role profiles with mfa_serial. Without it such a profile fails with
     * "MfaTokenRequired" (nothing ever reads a terminal). */
    ivs_mfa_token_fn mfa_token;
    void *mfa_token_ud;

    /* Added in 0.1 for the IVS family: which service the client calls, by its API name (as
     * ivs_service_name() lists them): "ivs" (low-latency streaming; the default when NULL),
     * "ivschat" (IVS Chat) or "ivs-realtime" (IVS Real-Time stages). It decides the
     * operations, the endpoint (AWS_ENDPOINT_URL_IVSCHAT, AWS_ENDPOINT_URL_IVS_REALTIME, the
     * [services] keys ivschat and ivs_realtime) and the signing name. An unknown name is an
     * IVS_ERR_CONFIG error, code "UnknownService", whose message lists the known ones. */
    const char *service;
};

/* Zeroes the first `size` bytes of the options and sets opts->struct_size = size. Call it
 * through the ivs_client_options_init() macro, which passes the caller's sizeof. */
IVS_API void ivs_client_options_init_size(struct ivs_client_options *opts, size_t size);

/* Zeroes the options and records their size (the ABI rule above). Always initialise options
 * with it before setting fields. (A function of this name is exported too, for programs built
 * before the macro existed; it assumes the library's own layout.) */
IVS_API void ivs_client_options_init(struct ivs_client_options *opts);
#define ivs_client_options_init(opts) ivs_client_options_init_size((opts), sizeof *(opts))

struct ivs_client;

/*
 * Creates a client. Resolves region, endpoint, retry and TLS settings now (so a missing
 * region fails here, with a clear message); credentials are resolved on the first call that
 * needs them and cached until shortly before they expire.
 * opts may be NULL (everything from the environment). *out is set on success only.
 */
IVS_API enum ivs_status ivs_client_new(const struct ivs_client_options *opts,
                                       struct ivs_client **out, struct ivs_error *err);

/* Closes the client's connections and releases everything it holds; non-blocking calls still
 * in flight are cancelled first (their callbacks fire with IVS_ERR_CANCELLED). NULL is
 * accepted. */
IVS_API void ivs_client_free(struct ivs_client *client);

/* The resolved region and endpoint of a client (owned by the client). */
IVS_API const char *ivs_client_region(const struct ivs_client *client);
IVS_API const char *ivs_client_endpoint(const struct ivs_client *client);

/* The API name of the service a client calls ("ivs", "ivschat", "ivs-realtime"; static). */
IVS_API const char *ivs_client_service(const struct ivs_client *client);

/*
 * Says who the client is, as a JSON object in *json_out (free with ivs_free()): "profile" and
 * "profile_source", "region" and "region_source", "endpoint" and "endpoint_source",
 * "config_file", "credentials_file", and the credentials it signs with, resolved now if they
 * were not yet: "credential_provider" ("environment", "assume-role",
 * "assume-role-with-web-identity", "sso", "shared-credentials-file", "login", "process",
 * "config-file", "container", "imds", "explicit", "anonymous"), "credential_source" (the
 * profile, file or role they came from), "access_key_id" with all but the last four
 * characters masked, "session_token" (a boolean) and "expires_at" (ISO 8601, or null for
 * long-term keys). When no credentials can be resolved, "credential_provider" is null and
 * "credential_error_code" / "credential_error" say why; the call itself still succeeds. No
 * secret is ever included.
 */
IVS_API enum ivs_status ivs_client_identity(struct ivs_client *client, char **json_out,
                                            struct ivs_error *err);

/*
 * Asks STS who the client's credentials belong to (GetCallerIdentity, signed with them, sent to
 * the STS endpoint resolved as for assume role): *json_out is {"UserId", "Account", "Arn"}
 * (free with ivs_free()). STS's errors come back as IVS_ERR_SERVICE with its code.
 */
IVS_API enum ivs_status ivs_client_whoami(struct ivs_client *client, char **json_out,
                                          struct ivs_error *err);

/*
 * Calls one operation of the client's service.
 *  operation     the API name ("CreateChannel") or the snake_case name ("create_channel")
 *  request_json  a JSON object with the operation's input members (API member names, as
 *                in `{"name":"lobby","latencyMode":"LOW"}`); NULL or "" means `{}`
 *  request_len   its length in bytes, or 0 when request_json is NUL-terminated (the length
 *                is then strlen(request_json)). The request_len bytes must hold exactly one
 *                JSON object, optionally followed by whitespace (or the NUL): a length that cuts
 * the text short, or bytes after the object, is IVS_ERR_VALIDATION saying so. response_json on
 * success, the output as a JSON object (`{}` for operations that return nothing); free with
 * ivs_free() response_len  may be NULL The input is validated against the model before anything is
 * sent (IVS_ERR_VALIDATION lists every problem at once). Retryable failures are retried per the
 * client's retry settings; err->attempts tells how many attempts were made.
 */
IVS_API enum ivs_status ivs_client_call(struct ivs_client *client, const char *operation,
                                        const char *request_json, size_t request_len,
                                        char **response_json, size_t *response_len,
                                        struct ivs_error *err);

/* ---------------------------------------------------------------------------------------
 * Non-blocking calls
 *
 * For hosts that run their own loop (games, UIs, event-driven servers) and must not stall in
 * a request: start any number of calls, then call ivs_client_poll() every frame or tick. A
 * call goes through exactly the same steps as ivs_client_call() (validation, credentials,
 * signing, retries per the client's policy, the same error parsing), only nothing waits.
 *  - Concurrency: many calls may be in flight on one client. Connections are kept alive and
 *    shared between them; at most `max_connections` (option, default 32) are open at once,
 *    further calls queue until one is free. These connections are separate from the one
 *    ivs_client_call() uses. The client's `timeout` counts from the moment a call's attempt
 *    is queued, so it includes time spent waiting for a free connection.
 *  - Retries: the backoff between attempts is a timer that ivs_client_poll() checks; nothing
 *    sleeps and the `sleep` hook is never used. Timers read the `clock` hook when one is set
 *    (a test can step time), else the monotonic clock. The retry quota is the client's, shared
 *    with blocking calls.
 *  - Credentials are resolved when an attempt is prepared. The first attempt of a client
 *    (and a refresh near expiry) may therefore block inside ivs_client_start() or
 *    ivs_client_poll() while a provider answers (credential_process, container or instance
 *    metadata); explicit keys, environment and profile keys never block. A blocking
 *    ivs_client_call() made once at start-up warms the cache.
 *  - Callbacks run on the thread that calls ivs_client_poll(), ivs_client_cancel_all() or
 *    ivs_client_free(), never inside ivs_client_start() and never from inside libcurl. A
 *    callback may start new calls on the same client (they are driven by the next poll),
 *    make blocking calls, poll, cancel, or even free the client: freeing from a callback
 *    cancels the other calls (their callbacks fire) and the client is released when the
 *    outermost ivs_client_poll() or ivs_client_cancel_all() returns (poll then returns 0).
 * ------------------------------------------------------------------------------------- */

/*
 * Receives the outcome of one non-blocking call, exactly once.
 *  status        IVS_OK, or the error kind (IVS_ERR_CANCELLED when the call was cancelled)
 *  response_json on success the output as a JSON object (as ivs_client_call() returns it),
 *                NUL-terminated, owned by the library and valid until the callback returns
 *                (copy what you keep); NULL on failure
 *  err           on failure the error (err->attempts counts the attempts made), owned by the
 *                library and valid until the callback returns; NULL on success
 */
typedef void (*ivs_call_done_fn)(void *ud, enum ivs_status status, const char *response_json,
                                 size_t response_len, const struct ivs_error *err);

/*
 * Starts one call and returns at once; done(ud, ...) fires later from ivs_client_poll().
 * operation, request_json and request_len are as for ivs_client_call() (the request is
 * copied). Misuse (IVS_ERR_USAGE) and a request that breaks the model (IVS_ERR_VALIDATION)
 * are returned here and nothing is queued (done never fires); so are IVS_ERR_NOMEM and
 * IVS_ERR_CONFIG when the client's transfer machinery cannot be set up. Every failure after
 * IVS_OK (credentials, network, service errors, cancellation) reaches done instead.
 */
IVS_API enum ivs_status ivs_client_start(struct ivs_client *client, const char *operation,
                                         const char *request_json, size_t request_len,
                                         ivs_call_done_fn done, void *ud, struct ivs_error *err);

/*
 * Drives the client's calls: moves transfers forward, sends retries whose backoff has
 * elapsed and fires the callbacks of the calls that completed. It returns as soon as at
 * least one callback fired, when no call is in flight, or after timeout_ms milliseconds;
 * timeout_ms 0 never waits (one pass over what is ready now), a negative value waits until
 * a callback fires. Returns how many calls are in flight afterwards (callbacks not yet
 * fired, including calls started by the callbacks), or -1 when client is NULL or invalid.
 */
IVS_API int ivs_client_poll(struct ivs_client *client, int timeout_ms);

/* How many calls are in flight (started, callback not yet fired); 0 for NULL. */
IVS_API int ivs_client_in_flight(const struct ivs_client *client);

/*
 * Cancels every call in flight: transfers are stopped (a request already sent may still
 * take effect on the service) and each callback fires before this returns, with status
 * IVS_ERR_CANCELLED, code "Cancelled". ivs_client_free() does this for the calls it finds.
 */
IVS_API void ivs_client_cancel_all(struct ivs_client *client);

/* ---------------------------------------------------------------------------------------
 * Operations (introspection)
 * ------------------------------------------------------------------------------------- */

/* The number of services a client can call (3: "ivs", "ivs-realtime", "ivschat"). */
IVS_API size_t ivs_service_count(void);

/* The API name of service i, sorted by name; NULL when i is out of range. The strings are
 * static. */
IVS_API const char *ivs_service_name(size_t i);

/* The number of operations of a service (41 for "ivs", 17 for "ivschat", 39 for
 * "ivs-realtime"); 0 when the service is unknown or NULL. */
IVS_API size_t ivs_service_operation_count(const char *service);

/* The API name of operation i of a service, in the model's sorted order; NULL when the
 * service is unknown or i is out of range. */
IVS_API const char *ivs_service_operation_name(const char *service, size_t i);

/* The number of operations of low-latency IVS (41 for IVS 2020-07-14): the same as
 * ivs_service_operation_count("ivs"). */
IVS_API size_t ivs_operation_count(void);

/* The API name of operation i of low-latency IVS ("BatchGetChannel"...), in the model's
 * sorted order; NULL when i is out of range. */
IVS_API const char *ivs_operation_name(size_t i);

/* ---------------------------------------------------------------------------------------
 * SigV4 for callers who build their own requests
 * ------------------------------------------------------------------------------------- */

struct ivs_header {
    const char *name;
    const char *value;
};

struct ivs_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
};

/*
 * A request to sign.
 *  url      absolute URL as it will be sent: scheme://host[:port]/path?query, with the path
 *           and query already percent-encoded for the wire
 *  headers  the headers that will be sent unchanged (Host is derived from the URL when
 *           absent); only these are signed
 *  region   signing region; service defaults to "ivs"
 *  time     signing time in seconds since the epoch; 0 = now
 */
struct ivs_sign_request {
    const char *method;
    const char *url;
    const struct ivs_header *headers;
    size_t header_count;
    const void *body;
    size_t body_len;
    const char *region;
    const char *service;
    int64_t time;
};

/*
 * What signing produced. Send the request with the headers X-Amz-Date: amz_date,
 * Authorization: authorization and, when security_token is not NULL,
 * X-Amz-Security-Token: security_token. The canonical request and string to sign are kept
 * for debugging signature mismatches. Release with ivs_signature_clear().
 */
struct ivs_signature {
    char amz_date[17];  /* YYYYMMDDTHHMMSSZ */
    char signature[65]; /* lowercase hex */
    char *authorization;
    char *security_token;
    char *signed_headers;
    char *canonical_request;
    char *string_to_sign;
};

/* Signs a request for the Authorization header (SigV4, path normalised and encoded as for
 * every non-S3 service). */
IVS_API enum ivs_status ivs_sign(const struct ivs_sign_request *req,
                                 const struct ivs_credentials *creds, struct ivs_signature *out,
                                 struct ivs_error *err);

/* Releases the strings of a signature and zeroes it; NULL is accepted. */
IVS_API void ivs_signature_clear(struct ivs_signature *sig);

/*
 * Presigns a URL (SigV4 query signing): the result is the request's URL with X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token
 * (when a token is set) and X-Amz-Signature added to its query. expires_s is 1..604800.
 * Only host is signed. *url_out is freed with ivs_free().
 */
IVS_API enum ivs_status ivs_presign_url(const struct ivs_sign_request *req,
                                        const struct ivs_credentials *creds, long expires_s,
                                        char **url_out, struct ivs_error *err);

/*
 * A reusable signer for callers who sign many requests. ivs_sign() and ivs_presign_url() set
 * up SHA-256 and derive the signing key (four HMACs) on every call; a signer keeps both, and
 * the derived keys of the last few (secret, day, region, service) combinations, so a signature
 * in a loop costs a fraction of that. Output is byte for byte what ivs_sign() gives.
 * A signer is not thread-safe: use one per thread. Only a SHA-256 digest of each secret is
 * kept, never the secret; ivs_signer_free() wipes the derived keys and accepts NULL.
 * ivs_signer_new() returns NULL when out of memory or when OpenSSL has no SHA-256.
 */
struct ivs_signer;
IVS_API struct ivs_signer *ivs_signer_new(void);
IVS_API void ivs_signer_free(struct ivs_signer *signer);
/* ivs_sign() through a signer; signer may be NULL (then it is ivs_sign()). */
IVS_API enum ivs_status ivs_signer_sign(struct ivs_signer *signer,
                                        const struct ivs_sign_request *req,
                                        const struct ivs_credentials *creds,
                                        struct ivs_signature *out, struct ivs_error *err);
/* ivs_presign_url() through a signer; signer may be NULL. */
IVS_API enum ivs_status ivs_signer_presign_url(struct ivs_signer *signer,
                                               const struct ivs_sign_request *req,
                                               const struct ivs_credentials *creds, long expires_s,
                                               char **url_out, struct ivs_error *err);

/* ---------------------------------------------------------------------------------------
 * Playback tokens
 *
 * A private channel (`authorized: true`) plays only with a playback authorization token:
 * a JWT signed ES384 (ECDSA P-384, SHA-384) with the private half of a playback key pair
 * whose public half was given to ImportPlaybackKeyPair. Signing happens entirely here; AWS
 * never sees the private key, and no request is sent.
 * ------------------------------------------------------------------------------------- */

/*
 * The claims of one token. Zero-initialise and set what you need; NULL strings and zero
 * numbers are left out of the token.
 *  channel_arn                  required (aws:channel-arn), an IVS channel ARN
 *  expires_at                   required (exp), Unix time in seconds; must be in the future,
 *                               and at most 600 s ahead when single_use_uuid or viewer_id
 *                               is set (the service's rule)
 *  access_control_allow_origin  aws:access-control-allow-origin: one origin or several,
 *                               comma-separated; a host may start with a wildcard
 *  strict_origin_enforcement    nonzero sends aws:strict-origin-enforcement = true; then at
 *                               most 5 origins may be listed
 *  single_use_uuid              aws:single-use-uuid: the token works for one playback start
 *  viewer_id                    aws:viewer-id, 1 to 40 characters (not PII); lets
 *                               StartViewerSessionRevocation target this viewer later
 *  viewer_session_version       aws:viewer-session-version, >= 0; sent when nonzero, and
 *                               only allowed together with viewer_id (0 is the service's
 *                               default, so leaving it out means the same)
 *  maximum_resolution           aws:maximum-resolution: "SD", "HD" or "FULL_HD"
 * Every string must be valid UTF-8.
 */
struct ivs_playback_token_claims {
    const char *channel_arn;
    int64_t expires_at;
    const char *access_control_allow_origin;
    int strict_origin_enforcement;
    const char *single_use_uuid;
    const char *viewer_id;
    int64_t viewer_session_version;
    const char *maximum_resolution;
};

/*
 * Makes a signed playback token.
 *  private_key_pem  an EC P-384 private key in PEM ("BEGIN EC PRIVATE KEY" or unencrypted
 *                   PKCS#8 "BEGIN PRIVATE KEY"), as made by
 *                   `openssl ecparam -name secp384r1 -genkey -noout`
 *  pem_len          its length in bytes; 0 means it is NUL-terminated
 *  claims           what the token grants
 *  now              the current Unix time in seconds, against which expires_at is checked;
 *                   0 = the real clock
 *  token_out        on success, the token (header.payload.signature, base64url); free with
 *                   ivs_free()
 * Errors: IVS_ERR_VALIDATION with code "InvalidPlaybackTokenClaims" (the message names every
 * claim at fault) or "InvalidPrivateKey" (not a PEM private key, encrypted, or not on P-384;
 * the message never quotes the key); IVS_ERR_USAGE for NULL arguments.
 */
IVS_API enum ivs_status ivs_playback_token(const char *private_key_pem, size_t pem_len,
                                           const struct ivs_playback_token_claims *claims,
                                           int64_t now, char **token_out, struct ivs_error *err);

/*
 * Adds a token to a channel's playbackUrl as its `token` query parameter (`?token=` or
 * `&token=`, before any fragment), replacing a `token` parameter already present, so a URL
 * can be refreshed with a new token. Characters outside the URL-unreserved set are
 * percent-encoded (a token from ivs_playback_token() has none). *url_out is freed with
 * ivs_free().
 */
IVS_API enum ivs_status ivs_playback_url(const char *playback_url, const char *token,
                                         char **url_out, struct ivs_error *err);

/* ---------------------------------------------------------------------------------------
 * Self-signed IVS Real-Time tokens
 *
 * A participant joins a Real-Time stage with a participant token. Besides the tokens
 * CreateParticipantToken returns, IVS accepts tokens the application signs itself: a JWT
 * signed ES384 with the private half of a P-384 key pair whose public half was given to
 * ImportPublicKey, with the public key's ARN as the JOSE header's `kid`. Signing happens
 * here; nothing is sent. A connection token lets the client SDKs keep one connection for
 * several stages of the same account and region; it does not replace participant tokens.
 * ------------------------------------------------------------------------------------- */

/* Capabilities of a participant token (bits). */
#define IVS_PARTICIPANT_PUBLISH 1
#define IVS_PARTICIPANT_SUBSCRIBE 2

/* One attribute of a participant token: a string key and value, both UTF-8. */
struct ivs_token_attribute {
    const char *key;
    const char *value;
};

/*
 * The claims of a participant token. Zero-initialise and set what you need.
 *  public_key_arn   required: the imported public key's ARN
 *                   (arn:aws:ivs:<region>:<account>:public-key/<id>), the header's kid
 *  stage_arn        required (resource): arn:aws:ivs:<region>:<account>:stage/<id>; the
 *                   topic claim is its id
 *  events_url       required (events_url): the stage's endpoints.events, a wss:// URL
 *  whip_url         required (whip_url): the stage's endpoints.whip, an https:// URL
 *  user_id          optional (user_id): at most 128 characters, visible to every participant
 *  capabilities     IVS_PARTICIPANT_PUBLISH and/or IVS_PARTICIPANT_SUBSCRIBE; 0 means both
 *                   (CreateParticipantToken's default). Only granted ones are written, as
 *                   allow_publish / allow_subscribe = true
 *  attributes       optional (attributes): at most 1 KB of keys and values in all, visible
 *                   to every participant; attribute_count entries, keys unique
 *  participant_id   optional (jti): becomes the participant id; at most 64 characters of
 *                   [A-Za-z0-9_-]; NULL = 12 random alphanumerics (as IVS's own)
 *  issued_at        iat, Unix seconds; 0 = now
 *  expires_at       required (exp), Unix seconds: after now, and at most 14 days after
 *                   issued_at (IVS refuses longer-lived tokens)
 */
struct ivs_participant_token_claims {
    const char *public_key_arn;
    const char *stage_arn;
    const char *events_url;
    const char *whip_url;
    const char *user_id;
    int capabilities;
    const struct ivs_token_attribute *attributes;
    size_t attribute_count;
    const char *participant_id;
    int64_t issued_at;
    int64_t expires_at;
};

/*
 * Makes a self-signed participant token. private_key_pem and pem_len are as for
 * ivs_playback_token() (an EC P-384 private key; 0 = NUL-terminated); now is the current
 * Unix time (0 = the real clock). The payload carries exp, iat, jti, user_id, resource,
 * topic, events_url, whip_url, capabilities, attributes and version "1.0".
 * Errors: IVS_ERR_VALIDATION with code "InvalidParticipantTokenClaims" (the message names
 * every claim at fault) or "InvalidPrivateKey"; IVS_ERR_USAGE for NULL arguments.
 * *token_out is freed with ivs_free().
 */
IVS_API enum ivs_status ivs_participant_token(const char *private_key_pem, size_t pem_len,
                                              const struct ivs_participant_token_claims *claims,
                                              int64_t now, char **token_out, struct ivs_error *err);

/*
 * The claims of a connection token.
 *  public_key_arn   required, as for participant tokens; the account_id and region claims
 *                   are taken from it (the key's home region)
 *  events_url       NULL = "wss://global.events.live-video.net", the only value IVS accepts
 *  connection_id    optional (jti): at most 64 characters of [A-Za-z0-9_-]; NULL = random
 *  issued_at        iat; 0 = now
 *  expires_at       required (exp): after now, at most 4 weeks after issued_at
 */
struct ivs_connection_token_claims {
    const char *public_key_arn;
    const char *events_url;
    const char *connection_id;
    int64_t issued_at;
    int64_t expires_at;
};

/* Makes a self-signed connection token, as ivs_participant_token() does a participant token
 * (errors use the code "InvalidConnectionTokenClaims"). */
IVS_API enum ivs_status ivs_connection_token(const char *private_key_pem, size_t pem_len,
                                             const struct ivs_connection_token_claims *claims,
                                             int64_t now, char **token_out, struct ivs_error *err);

#ifdef __cplusplus
}
#endif

#endif /* IVS_H */
