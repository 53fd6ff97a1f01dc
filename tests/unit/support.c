/* Unit tests for lib/support.c: what kom does not act on yet, and what
 * kom-plan refuses. */
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "support.h"
#include "tap.h"
#include "banned.h"

/* check TYPE CONFIG-JSON: the words, *refuse and the blocker. */
static int
check(const char *type, const char *cfg, struct buf *what, int *refuse,
    struct buf *blocker)
{
	json_t *rec = json_pack("{s:s,s:o}", "type", type, "config",
	    json_loads(cfg, 0, NULL));
	int n;

	buf_reset(what);
	if (blocker)
		buf_reset(blocker);
	n = support_check(rec, what, refuse, blocker);
	json_decref(rec);
	return n;
}

int
main(void)
{
	struct buf what = BUF_INIT, blocker = BUF_INIT;
	int refuse, n;

	n = check("deployment", "{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"nginx\"}}}", &what, &refuse, &blocker);
	ok(n == 0 && !refuse, "an image deployment: nothing to say");
	n = check("deployment", "{\"image\":{\"type\":\"Build\",\"params\":"
	    "{\"build\":\"b\"}},\"auto_update\":true}", &what, &refuse,
	    &blocker);
	ok(n == 0 && !refuse, "a Build image and auto_update: deployed, "
	    "nothing noted");
	n = check("deployment", "{\"swarm\":\"sw\",\"auto_update\":true}",
	    &what, &refuse, &blocker);
	ok(n == 1 && refuse, "swarm mode: one, refused");
	is_str(what.s, "swarm mode (swarm: a docker service)", "the words");
	is_str(blocker.s, "swarm mode (swarm: a docker service)",
	    "the blocker is the one that refuses");
	n = check("stack", "{\"repo\":\"me/x\",\"files_on_host\":false,"
	    "\"webhook_enabled\":true}", &what, &refuse, &blocker);
	ok(n == 0 && !refuse, "a stack from git with a webhook: deployable, "
	    "nothing noted (kom-poll webhook acts on it)");
	n = check("stack", "{\"repo\":\"me/x\",\"files_on_host\":true,"
	    "\"webhook_enabled\":true}", &what, &refuse, &blocker);
	ok(refuse == 0 && n == 0, "files on the host: deployable, nothing "
	    "noted");
	n = check("deployment", "{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"nginx\"}},\"poll_for_updates\":true,"
	    "\"auto_update\":true}", &what, &refuse, &blocker);
	ok(n == 0 && !refuse, "poll_for_updates and auto_update: not noted "
	    "(kom-poll images)");
	n = check("stack", "{\"repo\":\"\",\"webhook_enabled\":true}", &what,
	    &refuse, &blocker);
	ok(n == 0, "webhook_enabled without a repo (Komodo's default) is "
	    "not noted");
	n = check("builder", "{\"type\":\"Aws\"}", &what, &refuse, &blocker);
	ok(n == 1 && !refuse, "an Aws builder: noted, nothing to refuse");
	n = check("builder", "{\"type\":\"Server\"}", &what, &refuse,
	    &blocker);
	ok(n == 0, "a Server builder: acted on, nothing noted");
	n = check("procedure", "{\"schedule\":\"\"}", &what, &refuse,
	    &blocker);
	ok(n == 0, "no schedule: nothing");
	n = check("variable", "{\"value\":\"x\"}", &what, NULL, NULL);
	ok(n == 0, "refuse and blocker may be NULL");
	buf_free(&what);
	buf_free(&blocker);
	return done_testing();
}
