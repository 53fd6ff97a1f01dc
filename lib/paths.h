/*
 * paths: where kom keeps its configuration, state and spool (kom(7)).
 *
 *	KOM_HOME=DIR		DIR/kom.toml, DIR/state, DIR/spool
 *	root			/etc/kom/kom.toml, /var/lib/kom, /var/spool/kom
 *	anyone else		$XDG_CONFIG_HOME/kom/kom.toml,
 *				$XDG_STATE_HOME/kom, $XDG_STATE_HOME/kom/spool
 *
 * KOM_CONFIG, KOM_STATE_DIR and KOM_SPOOL_DIR override each one alone.
 * The strings are owned by the struct; paths_free() releases them.
 */
#ifndef KOM_PATHS_H
#define KOM_PATHS_H

struct kom_paths {
	char *config;	/* kom.toml */
	char *state;	/* state directory */
	char *spool;	/* spool directory */
};

void paths_get(struct kom_paths *p);
void paths_free(struct kom_paths *p);

#endif
