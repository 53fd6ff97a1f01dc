/* Unit tests: lib/buf and the allocation helpers of lib/util. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;
	char *s;

	is_str(b.s, "", "a new buf is the empty string");
	is_int(b.len, 0, "and has length 0");
	buf_adds(&b, "abc");
	buf_addc(&b, 'd');
	buf_add(&b, "e\0f", 3);
	is_int(b.len, 7, "adds count embedded NUL bytes");
	ok(memcmp(b.s, "abcde\0f", 8) == 0, "content kept, NUL-terminated");
	buf_reset(&b);
	buf_printf(&b, "%s-%d", "x", 42);
	is_str(b.s, "x-42", "printf into a reset buf");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "%05d", i);
	is_int(b.len, 4 + 50000, "grows across many appends");
	ok(strncmp(b.s + b.len - 5, "09999", 5) == 0, "last append intact");
	buf_truncate(&b, 2);
	is_str(b.s, "x-", "truncate");
	s = buf_release(&b);
	is_str(s, "x-", "release hands over the string");
	is_str(b.s, "", "and leaves the buf empty");
	free(s);
	s = buf_release(&b);
	is_str(s, "", "release of an empty buf gives an empty string");
	free(s);

	buf_adds(&b, "a secret and the secret again");
	buf_replace_all(&b, "secret", "<S>");
	is_str(b.s, "a <S> and the <S> again", "replace_all every occurrence");
	buf_replace_all(&b, "absent", "x");
	is_str(b.s, "a <S> and the <S> again", "replace_all with no match");
	buf_free(&b);

	is_int(st_add(1, 2), 3, "st_add");
	is_int(st_mul(6, 7), 42, "st_mul");
	s = xasprintf("%s=%d", "n", 5);
	is_str(s, "n=5", "xasprintf");
	free(s);
	s = xstrndup("abcdef", 3);
	is_str(s, "abc", "xstrndup cuts");
	free(s);
	{
		int *v = NULL;
		size_t cap = 0;
		for (int i = 0; i < 1000; i++) {
			KOM_GROW(v, (size_t)i + 1, cap);
			v[i] = i;
		}
		ok(cap >= 1000 && v[999] == 999, "KOM_GROW");
		free(v);
	}
	return done_testing();
}
