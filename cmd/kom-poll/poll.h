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
 * The resource records of sy when its files are on this host (a new
 * array, possibly empty; a sync read from git gives none: its files are
 * kom-poll fetch's).  Resource file errors are not printed: they are
 * kom-sync's to report.
 */
json_t *poll_sync_records(const struct config *cfg,
    const struct config_sync *sy);

int images_main(int argc, char **argv);


#endif
