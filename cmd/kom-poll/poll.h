/* kom-poll's verbs, one file each; kom-poll.c's main() picks one. */
#ifndef KOM_POLL_H
#define KOM_POLL_H

int webhook_main(int argc, char **argv);
int git_main(int argc, char **argv);
int apply_main(int argc, char **argv);

/* The path of kom program name to run (tool.c): fresh. */
char *poll_tool(const char *name);

#endif
