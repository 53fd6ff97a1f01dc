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
	ok(n == 1 && refuse, "a Build image and auto_update: one (kom-poll "
	    "images acts on auto_update), refused");
	is_str(what.s, "a 'Build' image (image.params.build)",
	    "the words");
	is_str(blocker.s, "a 'Build' image (image.params.build)",
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
	n = check("builder", "{}", &what, &refuse, &blocker);
	ok(n == 1 && !refuse, "a builder: noted, nothing to refuse");
	n = check("procedure", "{\"schedule\":\"\"}", &what, &refuse,
	    &blocker);
	ok(n == 0, "no schedule: nothing");
	n = check("variable", "{\"value\":\"x\"}", &what, NULL, NULL);
	ok(n == 0, "refuse and blocker may be NULL");
	buf_free(&what);
	buf_free(&blocker);
	return done_testing();
}
