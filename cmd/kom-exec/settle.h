/*
 * settle: what the engine's event log vouches for between two runs
 * (lib/evlog.h), so that a no-change rerun needs neither a container
 * list nor an inspect.
 *
 * STATE/settled.json: {"engine": ENDPOINT, "anchor": {...}, "settled":
 * {NAME: CONTAINER-ID}}, written at the end of a run: the newest event
 * of the engine's log then, and the deployments whose container nothing
 * stirred since the run last looked at it (a replacement's last health
 * look, the list or inspect of a noop).  The next run asks for the
 * events since the anchor once a stage (GET /events); when the answer
 * starts with it, nothing was lost between, and:
 *	- a deployment settled with its state's container, of which the
 *	  log shows nothing (no event of the container, none of a container
 *	  labelled with its name) is a noop without a list or an inspect;
 *	- a settled one that the log shows no change in place of (docker
 *	  update, rename) is a noop on the list alone, without an inspect.
 * Anything else is listed and inspected as ever.  Only an engine on
 * this machine (a unix socket): the query's end is this host's clock.
 * A lost or torn file only costs the next run its lists and inspects.
 */
#ifndef KOM_EXEC_SETTLE_H
#define KOM_EXEC_SETTLE_H

#include "job.h"

/* Read STATE/settled.json for d's engine (nothing: no fast path). */
void settle_load(struct exec_ctx *x, struct docker *d);

/* Before a stage: ask the log what it vouches for (x->touched, ...). */
void settle_look(struct exec_ctx *x, struct docker *d);

/* The container settled for deployment name, while the log is whole
 * since the anchor; NULL otherwise. */
const char *settle_cid(struct exec_ctx *x, const char *name);

/* Has the log nothing of name's settled container: 1 or 0. */
int settle_quiet(struct exec_ctx *x, const char *name);

/* Has the log no change in place of container id (docker update,
 * rename) since the anchor, and is id name's settled one: 1 or 0. */
int settle_unchanged(struct exec_ctx *x, const char *name, const char *id);

/* A step's last look: name's container id was as applied at seen_ns. */
void settle_known(struct exec_ctx *x, const char *name, const char *id,
    long long seen_ns);

/*
 * After the run: write STATE/settled.json.  A run that changed something
 * asks the log again, to see what stirred after each look; one that did
 * not keeps its first look's newest event as the anchor.
 */
void settle_save(struct exec_ctx *x, struct docker *d, int changed);

void settle_free(struct exec_ctx *x);

#endif
