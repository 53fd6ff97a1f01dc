/*
 * fuzz/compose_lines: libFuzzer target for lib/compose's reading of the
 * compose CLI's output (compose_last_lines: the last lines of a command's
 * output kept for its result, progress lines redrawn with CR).
 *
 *	make tests/fuzz/compose_lines
 *	sh tests/fuzz/run 60 tests/fuzz/compose_lines
 *
 * The first byte is how many lines to keep, the rest the output (up to
 * its first NUL, as the CLI's output is kept as a string).  Every line
 * handed out must lie inside the text, in order, and hold no newline;
 * there are as many as asked, or as the text has lines that are not
 * empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct seen {
	const char *text, *end, *last;
	size_t n, lines;
};

static void
add(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;

	CHECK(line >= s->text && line + len <= s->end);
	CHECK(line >= s->last);
	CHECK(memchr(line, '\n', len) == NULL);
	s->last = line + len;
	s->lines++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s;
	char *text;
	size_t nonempty = 0;
	const char *p;

	if (size == 0)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(&s, 0, sizeof(s));
	s.text = s.last = text;
	s.end = text + strlen(text);
	s.n = data[0] % 16;
	compose_last_lines(text, s.n, add, &s);
	for (p = text; *p; p++)
		nonempty += *p != '\n' && (p == text || p[-1] == '\n');
	CHECK(s.lines <= s.n);
	CHECK(s.lines == (nonempty < s.n ? nonempty : s.n));
	free(text);
	return 0;
}
