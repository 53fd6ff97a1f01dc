/* Unit tests: lib/alert (the record, and its way into the spool). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "file.h"
#include "proc.h"
#include "spool.h"
#include "util.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/kom-alert-test.XXXXXX";
	struct spool_entry e;
	struct buf b = BUF_INIT;
	json_t *a, *back;
	char *s;

	if (!mkdtemp(dir))
		return 1;
	a = alert_new("WARNING", "Deployment", "web", "DeploymentRollback",
	    json_pack("{s:s, s:s}", "from", "img:1", "to", "img:2"));
	ok(json_integer_value(json_object_get(a, "ts")) > 1700000000000LL,
	    "stamped in milliseconds");
	json_object_del(a, "ts");
	s = json_dumps(a, JSON_COMPACT);
	ok(strcmp(s, "{\"kind\":\"alert\",\"level\":\"WARNING\","
	    "\"resolved\":false,\"target\":{\"type\":\"Deployment\","
	    "\"id\":\"web\"},\"data\":{\"type\":\"DeploymentRollback\","
	    "\"data\":{\"from\":\"img:1\",\"to\":\"img:2\"}}}") == 0,
	    "Komodo's shape, in this order: %s", s);
	free(s);
	ok(alert_queue(dir, a) == 0, "queued");
	ok(spool_claim(dir, "alert", &e) == 1, "one entry in SPOOL/alert");
	ok(file_read_fd(e.fd, &b, 1 << 20) == 0 && b.len > 0 &&
	    b.s[b.len - 1] == '\n' && memchr(b.s, '\n', b.len) ==
	    b.s + b.len - 1, "one JSON line");
	back = json_loadb(b.s, b.len, 0, NULL);
	ok(json_equal(back, a), "the record as written");
	json_decref(back);
	spool_done(&e);
	ok(spool_claim(dir, "alert", &e) == 0, "and no other");
	ok(alert_queue("/proc/kom-no-such-dir", a) == -1, "a spool that "
	    "cannot be written: -1");
	alert_set_resolved(a);
	ok(strcmp(json_string_value(json_object_get(a, "level")), "OK") == 0 &&
	    json_is_true(json_object_get(a, "resolved")),
	    "alert_set_resolved: level OK, resolved true");
	json_decref(a);
	buf_free(&b);
	{
		char *argv[] = { "rm", "-rf", dir, NULL };
		int status;

		proc_run(argv, NULL, &status);
	}
	return done_testing();
}
