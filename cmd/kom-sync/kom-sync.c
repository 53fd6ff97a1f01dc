/*
 * kom-sync: placeholder dispatcher until the real kom-sync lands; only the
 * "toml" subcommand exists so far.
 */
#include <string.h>

#include "sync-toml.h"
#include "util.h"
#include "banned.h"

int
main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "toml"))
		return sync_toml_main(argc - 1, argv + 1);
	kom_die(KOM_EX_USAGE, "usage: kom-sync toml [-t] [file]");
}
