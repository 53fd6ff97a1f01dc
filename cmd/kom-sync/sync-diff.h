/*
 * sync-diff: "kom-sync diff", declared resources against the state
 * directory (diff.c, kom-sync(1)).
 */
#ifndef KOM_SYNC_DIFF_H
#define KOM_SYNC_DIFF_H

/* argv[0] is "diff"; returns the exit status. */
int sync_diff_main(int argc, char **argv);

#endif
