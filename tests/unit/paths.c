/* Unit tests: lib/paths (KOM_HOME, root defaults, overrides). */
#include <stdlib.h>
#include <unistd.h>

#include "paths.h"
#include "tap.h"

int
main(void)
{
	struct kom_paths p;

	unsetenv("KOM_CONFIG");
	unsetenv("KOM_STATE_DIR");
	unsetenv("KOM_SPOOL_DIR");
	setenv("KOM_HOME", "/srv/k", 1);
	paths_get(&p);
	is_str(p.config, "/srv/k/kom.toml", "KOM_HOME config");
	is_str(p.state, "/srv/k/state", "KOM_HOME state");
	is_str(p.spool, "/srv/k/spool", "KOM_HOME spool");
	paths_free(&p);
	setenv("KOM_STATE_DIR", "/st", 1);
	paths_get(&p);
	is_str(p.state, "/st", "KOM_STATE_DIR overrides one path");
	is_str(p.spool, "/srv/k/spool", "and leaves the others");
	paths_free(&p);
	unsetenv("KOM_STATE_DIR");
	unsetenv("KOM_HOME");
	paths_get(&p);
	if (geteuid() == 0) {
		is_str(p.config, "/etc/kom/kom.toml", "root config");
		is_str(p.state, "/var/lib/kom", "root state");
		is_str(p.spool, "/var/spool/kom", "root spool");
	} else {
		ok(p.config != NULL, "a config path");
		ok(p.state != NULL, "a state path");
		ok(p.spool != NULL, "a spool path");
	}
	paths_free(&p);
	return done_testing();
}
