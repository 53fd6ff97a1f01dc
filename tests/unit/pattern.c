/* Unit tests for lib/pattern: Komodo's batch patterns. */
#include <stdlib.h>

#include "pattern.h"
#include "tap.h"
#include "banned.h"

static void
split_is(const char *in, const char *want, const char *name)
{
	char **v;
	size_t n = pattern_split(in, &v), i, len = 0;
	char got[512];

	got[0] = '\0';
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
		    i ? "|" : "", v[i]);
		free(v[i]);
	}
	free(v);
	is_str(got, want, "split: %s", name);
}

static int
m(const char *spec, const char *name)
{
	char *err;
	struct pattern *p = pattern_new(spec, &err);
	int r;

	if (!p) {
		diag("%s", err);
		free(err);
		return -1;
	}
	r = pattern_match(p, name);
	pattern_free(p);
	return r;
}

int
main(void)
{
	struct pattern *p;
	char *err;

	split_is("", "", "empty");
	split_is("a", "a", "one");
	split_is("a,b , c", "a|b|c", "commas, trimmed");
	split_is("a\nb\n\n  c  \n", "a|b|c", "newlines, blank lines");
	split_is("# all\na, b # the rest\n#c\nd", "a|b|d",
	    "full-line and end-of-line comments");
	split_is("a#b, c", "a#b|c", "'#' inside an item is not a comment");
	split_is(",,a,,\r\n", "a", "empty items dropped, CRLF");
	split_is("\\^web-.*$\\, db", "\\^web-.*$\\|db", "regex item kept");

	ok(pattern_wildcard("web", "web"), "literal matches itself");
	ok(!pattern_wildcard("web", "web2"), "literal is whole-name");
	ok(!pattern_wildcard("web", "we"), "literal: shorter name");
	ok(pattern_wildcard("web-*", "web-1"), "star suffix");
	ok(pattern_wildcard("web-*", "web-"), "star matches empty");
	ok(!pattern_wildcard("web-*", "xweb-1"), "star: anchored start");
	ok(pattern_wildcard("*-db", "main-db"), "star prefix");
	ok(!pattern_wildcard("*-db", "main-db2"), "star prefix: anchored end");
	ok(pattern_wildcard("a*b*c", "aXXbYYbZc"), "two stars backtrack");
	ok(!pattern_wildcard("a*b*c", "aXXbYYbZ"), "two stars: no c");
	ok(pattern_wildcard("w?b", "web"), "question mark");
	ok(!pattern_wildcard("w?b", "wb"), "question mark needs a char");
	ok(pattern_wildcard("w?b", "w\xc3\xa9" "b"), "question mark: UTF-8");
	ok(pattern_wildcard("*", ""), "star matches empty name");
	ok(pattern_wildcard("**", "x"), "double star");
	ok(!pattern_wildcard("", "x"), "empty pattern, name");
	ok(pattern_wildcard("a.b", "a.b") && !pattern_wildcard("a.b", "axb"),
	    "dot is literal in a wildcard");

	is_int(m("web-*, db", "db"), 1, "list: second item");
	is_int(m("web-*, db", "dbx"), 0, "list: no item");
	is_int(m("\\^web-[0-9]+$\\", "web-12"), 1, "regex anchored");
	is_int(m("\\^web-[0-9]+$\\", "web-12a"), 0, "regex anchored: no");
	is_int(m("\\eb\\", "web"), 1, "regex is unanchored");
	is_int(m("\\(a|b)x\\", "zbxz"), 1, "regex alternation (ERE)");
	is_int(m("\\a{1,2}\\", "caab"), 0, "a comma inside a regex splits it, "
	    "like Komodo");
	is_int(m("# nothing\n", "x"), 0, "only comments: matches nothing");
	is_int(m("\\", "\\"), 1, "a lone backslash is a literal");
	p = pattern_new("a, \\x\\, b*", &err);
	ok(p && pattern_count(p) == 3, "count items");
	pattern_free(p);
	p = pattern_new("ok, \\([\\", &err);
	ok(p == NULL && err && strstr(err, "invalid regex '\\([\\'"),
	    "invalid regex: error names it");
	if (err)
		diag("%s", err);
	free(err);
	return done_testing();
}
