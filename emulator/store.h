/* store.h: the emulator's state (every IVS resource of every account and region), the 41
 * operations over it, the admin API, fault injection and persistence. One mutex guards all
 * of it; every function here takes it itself, so callers on any thread need no locking. */
#ifndef EMU_STORE_H
#define EMU_STORE_H

#include <cJSON.h>

#include "model.h"

/* What the HTTP layer sends back for one request. */
struct emu_reply {
    int status;
    const char *error_type; /* points at type_buf on error; NULL on success */
    char type_buf[64];
    char *message;  /* error detail (malloc'd); NULL on success */
    int front_door; /* the error comes from the front door: body {"message": ...} only */
    char *body;     /* success body as JSON text (malloc'd); NULL means empty */
    /* Set by the identity services (identity.c): body is sent verbatim with this content
     * type, also on error, and x-amzn-ErrorType only when error_type is set. */
    const char *content_type;
};

void emu_reply_cleanup(struct emu_reply *r);
/* Fills r with an error; the detail is printf-formatted. */
void emu_reply_error(struct emu_reply *r, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct store;

/* default_region/default_account name the partition the admin API uses when a request does
 * not say; state_path (may be NULL) is where the state is loaded from and saved to. */
struct store *store_new(const char *default_region, const char *default_account,
                        const char *state_path);
/* Saves a last time (when a state path is set) and releases everything. NULL is accepted. */
void store_free(struct store *s);

/* Loads the state file if it exists, replays its journal (emulator/journal.h) and starts a
 * new journal: from then on every change is appended to it before it is acknowledged.
 * Returns 0 (also when there is no state yet), -1 with a one-line message naming the file
 * and the problem in errbuf when the state cannot be read, is not a regular file, is not a
 * valid state file, a journal line other than the last is damaged, or the journal cannot be
 * created. */
int store_load(struct store *s, char *errbuf, size_t errlen);
/* Loads len bytes of state-file text into an empty store (what store_load does with the file's
 * bytes, without the journal; also the state loader's fuzzing entry point). The whole document
 * is checked before anything is loaded: every member the emulator later reads must be present
 * with its type, ARNs match their type and partition and are unique, links resolve, no object
 * names a member twice. Returns 0, or -1 with the store left empty and a one-line message in
 * errbuf: "WHAT is not a valid state file: PLACE: PROBLEM" (never a value from the text). */
int store_load_text(struct store *s, const char *text, size_t len, const char *what, char *errbuf,
                    size_t errlen);
/* With on, every journal record is flushed to the disk (fdatasync) before the change is
 * acknowledged: power-loss safety, at the cost of a disk flush per change. Call before
 * store_load. */
void store_set_fsync(struct store *s, int on);
/* Starts the background thread that saves the state shortly after each change (debounced);
 * no-op without a state path. Returns 0 or -1. */
int store_start_saver(struct store *s);

/* Runs one IVS operation for (account, region) on an already validated input. */
void store_call(struct store *s, const char *account, const char *region,
                const struct model_operation *op, const cJSON *input, struct emu_reply *out);

/* Handles the admin API: method and the path below "/_emulator" (e.g. "/streams/start"),
 * the decoded query parameters as a JSON object of strings, and the parsed JSON body (NULL
 * when absent). */
void store_admin(struct store *s, const char *method, const char *path, const cJSON *query,
                 const cJSON *body, struct emu_reply *out);

/* An injected fault, consumed by the request that triggers it. */
struct emu_fault_action {
    int status; /* 0: no error, only the latency (if any) */
    char error_type[64];
    char message[256];
    long latency_ms;
    int drop_connection;
};

/* Takes the first armed fault for an operation name (or "*"); returns 1 when one applied. */
int store_take_fault(struct store *s, const char *operation, struct emu_fault_action *out);

#endif
