/* shellwords: POSIX word splitting without a shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shellwords.h"
#include "tap.h"
#include "banned.h"

/* Split s and join the words as [w1][w2]... for comparison. */
static char *
joined(const char *s, int *rc, char *err, size_t errlen)
{
	char **v;
	size_t n, i;
	struct buf b = BUF_INIT;

	*rc = shellwords_split(s, &v, &n, err, errlen);
	if (*rc < 0)
		return buf_release(&b);
	for (i = 0; i < n; i++)
		buf_printf(&b, "[%s]", v[i]);
	if (v[n] != NULL)
		buf_adds(&b, "(argv not NULL-terminated)");
	shellwords_free(v);
	return buf_release(&b);
}

/* The input as a one-line test name. */
static const char *
name(const char *in)
{
	static char b[128];
	size_t j = 0;

	for (size_t i = 0; in[i] && j + 3 < sizeof(b); i++) {
		if (in[i] == '\n') {
			b[j++] = '\\';
			b[j++] = 'n';
		} else if (in[i] == '#') {
			b[j++] = '%';
		} else {
			b[j++] = in[i];
		}
	}
	b[j] = '\0';
	return b;
}

static void
check(const char *in, const char *want)
{
	char err[200] = "";
	int rc;
	char *got = joined(in, &rc, err, sizeof(err));

	if (!ok(rc == 0 && strcmp(got, want) == 0, "split %s", name(in)))
		diag("got '%s' (rc %d: %s), want '%s'", got, rc, err, want);
	free(got);
}

static void
check_err(const char *in, const char *want)
{
	char err[200] = "";
	int rc;
	char *got = joined(in, &rc, err, sizeof(err));

	ok(rc == -1, "error for %s", name(in));
	is_str(err, want, "message for %s", name(in));
	free(got);
}

static void
free_null(void *unused)
{
	shellwords_free(NULL);
}

int
main(void)
{
	check("", "");
	check("   \t\n ", "");
	check("echo hello", "[echo][hello]");
	check("  a   b\tc\nd  ", "[a][b][c][d]");
	check("sh -c 'echo $HOME; ls'", "[sh][-c][echo $HOME; ls]");
	check("echo \"a  b\" c", "[echo][a  b][c]");
	check("echo \"\\$x \\\" \\\\ \\n\"", "[echo][$x \" \\ \\n]");
	check("a\\ b c", "[a b][c]");
	check("a\\\nb", "[ab]");
	check("\"a\\\nb\"", "[ab]");
	check("'it'\\''s'", "[it's]");
	check("x'y'\"z\"w", "[xyzw]");
	check("'' \"\" a", "[][][a]");
	check("echo $HOME `date` ${X} ~ *.c", "[echo][$HOME][`date`][${X}][~][*.c]");
	check("a #comment here\nb", "[a][b]");
	check("a#b", "[a#b]");
	check("'|' \"&&\" \\;", "[|][&&][;]");
	check("--memory=512m", "[--memory=512m]");
	check("--label \"a=b c\"", "[--label][a=b c]");
	check("'a\nb'", "[a\nb]");

	check_err("echo 'abc", "unterminated single quote at offset 5");
	check_err("echo \"abc", "unterminated double quote at offset 5");
	check_err("echo \"a\\\"", "unterminated double quote at offset 5");
	check_err("echo abc\\", "trailing backslash at offset 8");
	check_err("a | b", "unquoted '|' needs a shell (quote it, or run "
	    "sh -c '...') at offset 2");
	check_err("a && b", "unquoted '&' needs a shell (quote it, or run "
	    "sh -c '...') at offset 2");
	check_err("a;b", "unquoted ';' needs a shell (quote it, or run "
	    "sh -c '...') at offset 1");
	check_err("a >out", "unquoted '>' needs a shell (quote it, or run "
	    "sh -c '...') at offset 2");

	{
		char **v = NULL;
		char err[64];

		ok(shellwords_split("x", &v, NULL, err, sizeof(err)) == 0 &&
		    v[0] && strcmp(v[0], "x") == 0 && v[1] == NULL,
		    "argc may be NULL");
		shellwords_free(v);
		ok(survives(free_null, NULL), "shellwords_free(NULL) is "
		    "harmless");
	}
	return done_testing();
}
