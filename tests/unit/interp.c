/* Unit tests for lib/interp.c: [[VAR]] syntax and secret masking. */
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "tap.h"
#include "banned.h"

static const char *
lookup(void *ctx, const char *name, size_t n, int *secret)
{
	(void)ctx;
	*secret = 0;
	if (n == 4 && !memcmp(name, "HOST", 4))
		return "db.local";
	if (n == 2 && !memcmp(name, "PW", 2)) {
		*secret = 1;
		return "hunter2";
	}
	if (n == 3 && !memcmp(name, "PW2", 3)) {
		*secret = 1;
		return "hunter2-long";
	}
	return NULL;
}

static void
expand_is(const char *in, const char *want, long count, const char *name)
{
	struct buf b = BUF_INIT;
	struct interp_error err;
	long n = interp_expand(in, strlen(in), lookup, NULL, &b, NULL, &err);

	is_int(n, count, "expand count: %s", name);
	is_str(b.s, want, "expand: %s", name);
	buf_free(&b);
}

static void
expand_fails(const char *in, size_t off, const char *name)
{
	struct buf b = BUF_INIT;
	struct interp_error err;

	ok(interp_expand(in, strlen(in), lookup, NULL, &b, NULL, &err) < 0,
	    "expand fails: %s", name);
	is_int(err.off, off, "error offset: %s", name);
	buf_free(&b);
}

int
main(void)
{
	struct interp_ref *refs;
	struct interp_error err;
	struct interp_masks m = INTERP_MASKS_INIT;
	struct buf b = BUF_INIT;
	long n;

	expand_is("", "", 0, "empty");
	expand_is("plain", "plain", 0, "no reference");
	expand_is("[[HOST]]", "db.local", 1, "one");
	expand_is("a=[[HOST]]:[[HOST]]!", "a=db.local:db.local!", 2, "two");
	expand_is("[[NOPE]]", "[[NOPE]]", 0, "unknown left as written");
	expand_is("[[ HOST ]]", "[[ HOST ]]", 0, "no trimming");
	expand_is("[[[HOST]]]", "[[HOST]]", 0, "escape");
	expand_is("x [[[a]]] [[HOST]]", "x [[a]] db.local", 1,
	    "escape then reference");
	expand_is("[x] [a]]", "[x] [a]]", 0, "single brackets");
	expand_fails("a [[HOST", 2, "no closing tags");
	expand_fails("[[[[X]]]]", 0, "quadruple opener");
	expand_fails("[[[X]]", 0, "escape without closing");

	n = interp_refs("a [[X]] b [[[Y]]] [[Z]]", 23, &refs, &err);
	is_int(n, 2, "refs: two references, escapes excluded");
	if (n == 2) {
		is_int(refs[0].off, 2, "refs: first offset");
		is_int(refs[0].len, 5, "refs: first length");
		is_int(refs[0].name_off, 4, "refs: first name offset");
		is_int(refs[0].name_len, 1, "refs: first name length");
		is_int(refs[1].name_off, 20, "refs: second name offset");
	}
	free(refs);
	n = interp_refs("none", 4, &refs, &err);
	ok(n == 0 && refs == NULL, "refs: none");
	ok(interp_refs("[[a", 3, &refs, &err) < 0, "refs: syntax error");

	/* masking */
	n = interp_expand("pw=[[PW]] pw2=[[PW2]] host=[[HOST]]", 35, lookup,
	    NULL, &b, &m, &err);
	is_int(n, 3, "expand with masks");
	is_str(b.s, "pw=hunter2 pw2=hunter2-long host=db.local",
	    "secrets expanded");
	is_int(m.n, 2, "two secrets recorded, not the plain variable");
	interp_mask(&b, &m);
	is_str(b.s, "pw=<PW> pw2=<PW2> host=db.local",
	    "masked, longer secret first");
	buf_reset(&b);
	buf_adds(&b, "log: hunter2 hunter2");
	interp_mask(&b, &m);
	is_str(b.s, "log: <PW> <PW>", "every occurrence masked");
	interp_masks_add(&m, "hunter2", "PW");
	interp_masks_add(&m, "", "EMPTY");
	is_int(m.n, 2, "repeats and empty values ignored");
	interp_masks_free(&m);
	buf_reset(&b);
	buf_adds(&b, "untouched");
	interp_mask(&b, &m);
	is_str(b.s, "untouched", "no masks");
	buf_free(&b);
	return done_testing();
}
