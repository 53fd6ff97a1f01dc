/* Unit tests: lib/spool (put, claim, done, retry, fail, recover). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "proc.h"
#include "spool.h"
#include "util.h"
#include "tap.h"

static int
exists(const char *fmt, const char *a, const char *b)
{
	char *p = xasprintf(fmt, a, b);
	struct stat st;
	int rc = stat(p, &st) == 0;

	free(p);
	return rc;
}

int
main(void)
{
	char dir[] = "/tmp/kom-spool-test.XXXXXX";
	struct spool_entry e;
	struct buf b = BUF_INIT;
	char *n1, *n2, *p;

	if (!mkdtemp(dir))
		return 1;
	is_int(spool_claim(dir, "alert", &e), 0, "an absent queue is empty");
	is_int(spool_put(dir, "alert", "{\"a\":1}", 7, &n1), 0, "put one");
	usleep(2000);
	is_int(spool_put(dir, "alert", "{\"a\":2}", 7, &n2), 0, "put two");
	ok(strcmp(n1, n2) < 0, "names sort by time");
	ok(exists("%s/alert/new/%s", dir, n1), "the entry is in new/");
	is_int(spool_claim(dir, "alert", &e), 1, "claim");
	is_str(e.name, n1, "the oldest first");
	ok(exists("%s/alert/cur/%s", dir, n1), "moved into cur/");
	is_int(spool_recover(dir, "alert"), 0,
	    "recover leaves an entry whose claimant lives");
	if (fork() == 0) {
		/* Another consumer gets the next entry, not ours. */
		struct spool_entry e2;
		int rc = spool_claim(dir, "alert", &e2);
		int good = rc == 1 && strcmp(e2.name, n2) == 0;
		/* Die holding the claim, like a crashed consumer; free first
		 * so valgrind sees no leak in this child. */
		free(e2.path); free(e2.name); free(e2.spool); free(e2.queue);
		free(e.path); free(e.name); free(e.spool); free(e.queue);
		free(n1); free(n2);
		_exit(good ? 0 : 1);
	} else {
		int ws;
		wait(&ws);
		ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		    "a second consumer claims the other entry");
	}
	/* That child died holding n2 in cur/: recovery gives it back. */
	is_int(spool_recover(dir, "alert"), 1, "recover a dead claimant's entry");
	ok(exists("%s/alert/new/%s", dir, n2), "back in new/");
	file_read_fd(e.fd, &b, 100);
	is_str(b.s, "{\"a\":1}", "content of the claimed entry");
	is_int(spool_done(&e), 0, "done");
	ok(!exists("%s/alert/cur/%s", dir, n1), "done deletes it");
	is_int(spool_claim(dir, "alert", &e), 1, "claim the second");
	is_int(spool_retry(&e), 0, "retry");
	ok(exists("%s/alert/new/%s", dir, n2), "retry puts it back in new/");
	is_int(spool_claim(dir, "alert", &e), 1, "claim it again");
	is_int(spool_fail(&e, "http 500 after 5 tries"), 0, "fail");
	ok(exists("%s/alert/failed/%s", dir, n2), "moved into failed/");
	p = xasprintf("%s/alert/failed/%s.reason", dir, n2);
	buf_reset(&b);
	file_read(p, &b, 100);
	is_str(b.s, "http 500 after 5 tries\n", "with its reason");
	free(p);
	is_int(spool_claim(dir, "alert", &e), 0, "the queue is empty");
	ok(!exists("%s/alert/tmp/%s", dir, n1), "nothing left in tmp/");
	free(n1);
	free(n2);
	buf_free(&b);
	{
		char *argv[] = { "rm", "-rf", dir, NULL };
		int status;
		proc_run(argv, NULL, &status);
	}
	return done_testing();
}
