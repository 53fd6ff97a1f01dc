/* Unit tests: lib/http's parts that need no network (Retry-After, form
 * encoding, the outcome of a refused connection). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "util.h"
#include "tap.h"

static long
ra(const char *s, time_t now)
{
	long ms = -42;

	if (http_retry_after(s, strlen(s), now, 3600000, &ms) < 0)
		return -1;
	return ms;
}

int
main(void)
{
	time_t now = 784111777;		/* Sun, 06 Nov 1994 08:49:37 GMT */
	struct buf b = BUF_INIT;
	struct http_req r, *rp = &r;

	is_int(ra("0", now), 0, "Retry-After: 0");
	is_int(ra("120", now), 120000, "delta-seconds");
	is_int(ra("  7 \r\n", now), 7000, "white space and CRLF around it");
	is_int(ra("99999999999999999999999", now), 3600000, "a huge delta is capped");
	is_int(ra("Sun, 06 Nov 1994 08:49:37 GMT", now), 0, "a date now: 0");
	is_int(ra("Sun, 06 Nov 1994 08:50:07 GMT", now), 30000, "a date 30 s ahead");
	is_int(ra("Sun, 06 Nov 1994 08:49:00 GMT", now), 0, "a date in the past: 0");
	is_int(ra("Mon, 01 Jan 2035 00:00:00 GMT", now), 3600000, "a far date is capped");
	is_int(ra("", now), -1, "empty");
	is_int(ra("1.5", now), -1, "a fraction is not delta-seconds");
	is_int(ra("-3", now), -1, "negative");
	is_int(ra("Sunday, 06-Nov-94 08:49:37 GMT", now), -1, "RFC 850 form refused");
	is_int(ra("Sun, 06 Foo 1994 08:49:37 GMT", now), -1, "a bad month");
	is_int(ra("Sun, 06 Nov 1994 25:49:37 GMT", now), -1, "a bad hour");
	is_int(ra("Sun, 06 Nov 1994 08:49:37 UTC", now), -1, "not GMT");

	http_form_escape(&b, "a b&c=d/é~");
	is_str(b.s, "a+b%26c%3Dd%2F%C3%A9%7E", "form encoding");
	buf_free(&b);

	/* a port nothing listens on: refused, temporary, on_send not called */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http_req_init(&r);
	r.url = "http://127.0.0.1:1/x";
	r.body = "{}";
	r.len = 2;
	r.timeout_ms = 2000;
	is_int(http_run(&rp, 1), 0, "http_run");
	is_int(r.outcome, HTTP_TEMP, "connection refused is temporary");
	is_int(r.sent, 0, "nothing was sent");
	ok(strstr(r.err, "127.0.0.1") != NULL || strstr(r.err, "onnect") != NULL,
	    "the error says so: %s", r.err);
	http_req_free(&r);

	http_req_init(&r);
	r.url = "gopher://127.0.0.1/x";
	r.body = "";
	is_int(http_run(&rp, 1), 0, "http_run");
	is_int(r.outcome, HTTP_PERM, "a protocol other than http(s) is refused for good");
	http_req_free(&r);
	curl_global_cleanup();
	return done_testing();
}
