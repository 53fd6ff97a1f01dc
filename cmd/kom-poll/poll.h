/* kom-poll's verbs, one file each; kom-poll.c's main() picks one. */
#ifndef KOM_POLL_H
#define KOM_POLL_H

int webhook_main(int argc, char **argv);
int git_main(int argc, char **argv);
int apply_main(int argc, char **argv);

struct config;
struct config_sync;
#include <jansson.h>

/*
 * The resource records of sy (a new array, possibly empty), from the files
 * kom-sync reads for it: its directory, or the checkout kom-poll fetch made
 * under statedir/repos for a sync whose files are in git (none yet: an
 * empty array).  Resource file errors are not printed: they are
 * kom-sync's to report.
 */
json_t *poll_sync_records(const struct config *cfg,
    const struct config_sync *sy, const char *statedir);

int images_main(int argc, char **argv);

/*
 * When to look again (kom-poll git, images): interval seconds and up to a
 * tenth more of jitter after now (ms); after failures, the interval
 * doubled per failure, at most an hour (or the interval, if longer).
 */
long long poll_next_look(long long now, int interval, long failures);

/*
 * STATE/poll/NAME.json: a new reference to the object the file holds, or a
 * fresh {"version":1,"syncs":{}} when there is none (or it is not one:
 * said on stderr); saved atomically (0, or -1 with errno set).
 */
json_t *poll_state_load(const char *path);
int poll_state_save(const char *path, const json_t *st);


#endif
