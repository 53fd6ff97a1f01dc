/*
 * sync-toml: "kom-sync toml", the TOML decoder subcommand (toml.c).
 */
#ifndef KOM_SYNC_TOML_H
#define KOM_SYNC_TOML_H

/* argv[0] is "toml"; returns the exit status. */
int sync_toml_main(int argc, char **argv);

#endif
