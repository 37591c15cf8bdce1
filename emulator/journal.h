/* journal.h: the emulator's write-ahead journal. Every acknowledged change is appended here,
 * as one JSON object per line, before the reply goes out, so that it survives the death of the
 * process (kill -9); with `sync` each record is also flushed to the disk (power loss). The
 * snapshot (the state file) is rewritten from time to time and the journal then starts anew.
 *
 * Records. The journal only stores and returns them; what they mean is up to the caller, but
 * every record has an "op" string and the helpers below write these shapes:
 *
 *   {"op":"put","kind":K,"id":ID,"value":V}   the resource ID of kind K is now V (whole value)
 *   {"op":"del","kind":K,"id":ID}             the resource ID of kind K is gone
 *   {"op":"clear","kind":K}                   every resource of kind K is gone ("*": all kinds)
 *
 * Kinds are namespaced by service, "ivs:channel", "ivs:event", ...: an engine for another
 * service writes its own kinds through the same journal and handles them in the store's
 * replay callback (emulator/store.c, apply_record). A put carries the whole value, never a
 * difference, so replaying a record twice is harmless.
 *
 * Files. The store keeps STATE (the snapshot, which names the first journal generation it does
 * not contain) and STATE.journal.N (journal_path): a snapshot with generation G plus the
 * journals G, G+1, ... replayed in order is the state at the moment of the crash. A journal is
 * written with one write() per record; a last line without its newline is a record the process
 * died while writing (never acknowledged) and is ignored with a warning, while a damaged line
 * anywhere else is an error. Not thread-safe: the store calls it under its lock. */
#ifndef EMU_JOURNAL_H
#define EMU_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

struct journal;

/* The path of generation `generation` of the journal of a state file (malloc'd). */
char *journal_path(const char *state_path, uint64_t generation);

/* Creates (or empties) the journal file at path, mode 0600, for appending. With sync, each
 * record is flushed with fdatasync() before journal_append returns, and the file's directory
 * entry is flushed now. NULL with a message in errbuf on failure. */
struct journal *journal_open(const char *path, int sync, char *errbuf, size_t errlen);
/* Closes the file. NULL is accepted. */
void journal_close(struct journal *j);

/* Appends one record as one line. Returns 0, or -1 (errno set) when it could not be written
 * whole: the caller must then not acknowledge the change as durable. */
int journal_append(struct journal *j, const cJSON *record);
/* The record shapes above; value is copied, not taken. */
int journal_put(struct journal *j, const char *kind, const char *id, const cJSON *value);
int journal_del(struct journal *j, const char *kind, const char *id);
int journal_clear(struct journal *j, const char *kind);

/* Called for each record in order; returns 0, or -1 with a message in errbuf to stop. */
typedef int (*journal_apply_fn)(void *ctx, const cJSON *record, char *errbuf, size_t errlen);

/* Replays the journal at path. Returns 1 when the file does not exist, 0 when every record
 * was applied, -1 with "line N: problem" in errbuf when a line is not a JSON object with an
 * "op" string or apply failed. *torn is set to 1 when an incomplete last line was ignored. */
int journal_replay(const char *path, journal_apply_fn apply, void *ctx, int *torn, char *errbuf,
                   size_t errlen);

#endif
