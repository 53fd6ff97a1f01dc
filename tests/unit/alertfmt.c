/* Unit tests: lib/alertfmt (Komodo's texts per style, bodies, e-mail). */
#include <stdlib.h>
#include <string.h>

#include "alertfmt.h"
#include "buf.h"
#include "util.h"
#include "tap.h"

static json_t *
rec(const char *level, const char *type, const char *data)
{
	char *s = xasprintf("{\"kind\":\"alert\",\"ts\":5,\"level\":\"%s\","
	    "\"resolved\":false,\"target\":{\"type\":\"Server\",\"id\":\"h1\"},"
	    "\"data\":{\"type\":\"%s\",\"data\":%s}}", level, type, data);
	json_t *j = json_loads(s, 0, NULL);

	free(s);
	if (!j)
		exit(1);
	return j;
}

static void
text(const char *level, const char *type, const char *data,
    enum alertfmt_style st, const char *link, const char *want,
    const char *name)
{
	json_t *a = rec(level, type, data);
	char *t = alertfmt_text(a, st, link);

	is_str(t, want, "%s", name);
	free(t);
	json_decref(a);
}

int
main(void)
{
	json_t *a;
	char *s;
	struct buf b = BUF_INIT;
	const char *rcpt[] = { "a@x", "b@x", NULL };

	text("CRITICAL", "ServerUnreachable", "{\"id\":\"h1\",\"name\":\"h1\",\"err\":\"no route\"}",
	    ALERTFMT_PLAIN, "https://k", "CRITICAL \xf0\x9f\x9a\xa8 | h1 is unreachable \xe2\x9d\x8c\n"
	    "https://k/servers/h1\nerror: \"no route\"", "unreachable: link, then the error as Debug");
	text("OK", "ServerUnreachable", "{\"id\":\"h1\",\"name\":\"h1\"}",
	    ALERTFMT_DISCORD, NULL, "OK \xe2\x9c\x85 | **h1** is now **connected**",
	    "unreachable resolved, Discord");
	text("WARNING", "ServerMem", "{\"id\":\"h1\",\"name\":\"h1\",\"used_gb\":6,\"total_gb\":8}",
	    ALERTFMT_PLAIN, NULL, "WARNING \xe2\x80\xbc\xef\xb8\x8f | h1 memory usage at 75.0%\xf0\x9f\x92\xbe\n\n"
	    "Using 6.0 GiB / 8.0 GiB", "memory: the percentage from used and total");
	text("OK", "StackStateChange", "{\"id\":\"app\",\"name\":\"app\",\"from\":\"running\",\"to\":\"down\"}",
	    ALERTFMT_PLAIN, NULL, "\xf0\x9f\xa5\x9e Stack app is now Down \xe2\xac\x87\xef\xb8\x8f\nprevious: running",
	    "stack state");
	text("OK", "StackAutoUpdated", "{\"id\":\"app\",\"name\":\"app\",\"images\":[\"a:1\",\"b:2\"]}",
	    ALERTFMT_PLAIN, NULL, "\xe2\xac\x86 Stack app was updated automatically \xe2\x8f\xab\nimages: a:1, b:2",
	    "images, plural");
	text("OK", "ScheduleRun", "{\"resource_type\":\"Procedure\",\"id\":\"n\",\"name\":\"nightly\"}",
	    ALERTFMT_PLAIN, NULL, "OK \xe2\x9c\x85 | nightly (Procedure) | Scheduled run started \xf0\x9f\x95\x9d",
	    "schedule run");
	text("WARNING", "BuildFailed", "{\"id\":\"api\",\"name\":\"api\",\"version\":{\"major\":1,\"minor\":0,\"patch\":2}}",
	    ALERTFMT_PLAIN, NULL, "WARNING \xe2\x80\xbc\xef\xb8\x8f | Build api failed\nversion: v1.0.2",
	    "build failed: Komodo's text");
	text("OK", "BuildFailed", "{\"id\":\"api\",\"name\":\"api\",\"version\":{\"major\":1,\"minor\":0,\"patch\":2}}",
	    ALERTFMT_DISCORD, NULL, "OK \xe2\x9c\x85 | Build **api** **builds again**\nversion: **v1.0.2**",
	    "build failed, resolved: kom's text");
	text("WARNING", "SomethingNew", "{\"error\":\"boom\"}", ALERTFMT_PLAIN, NULL,
	    "WARNING \xe2\x80\xbc\xef\xb8\x8f | SomethingNew on Server h1\nerror: boom", "an unknown type: a generic text");
	text("OK", "None", "{}", ALERTFMT_PLAIN, NULL, "", "None: nothing");

	a = rec("WARNING", "ServerCpu", "{\"id\":\"h1\",\"name\":\"h1\",\"percentage\":91}");
	s = alertfmt_custom(a);
	is_str(s, "{\"ts\":5,\"level\":\"WARNING\",\"resolved\":false,\"target\":{\"type\":\"Server\",\"id\":\"h1\"},"
	    "\"data\":{\"type\":\"ServerCpu\",\"data\":{\"id\":\"h1\",\"name\":\"h1\",\"percentage\":91}},\"resolved_ts\":null}",
	    "Custom: kind dropped, resolved_ts null");
	free(s);
	s = alertfmt_discord(a, NULL);
	is_str(s, "{\"content\":\"WARNING \xe2\x80\xbc\xef\xb8\x8f | **h1** cpu usage at **91.0%**\"}", "Discord body");
	free(s);
	alertfmt_mail(&b, a, "kom@x\r\nBcc: evil@x", rcpt, "abc", NULL, 0);
	ok(strstr(b.s, "From: kom@x  Bcc: evil@x\r\n") != NULL, "no header injection through From");
	ok(strstr(b.s, "To: a@x, b@x\r\n") != NULL, "To lists every recipient");
	ok(strstr(b.s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL, "Date");
	ok(strstr(b.s, "Message-ID: <abc@kom>\r\n") != NULL, "Message-ID");
	ok(strstr(b.s, "\r\n\r\nWARNING") != NULL, "the body after a blank line");
	buf_free(&b);
	json_decref(a);
	return done_testing();
}
