#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "banned.h"

char kom_buf_empty[1];

void
buf_init(struct buf *b)
{
	b->s = kom_buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
buf_free(struct buf *b)
{
	if (b->cap)
		free(b->s);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len > b->len)
		kom_die(KOM_EX_SOFTWARE, "buf_truncate beyond length");
	b->len = len;
	if (b->cap)
		b->s[len] = '\0';
}

void
buf_grow(struct buf *b, size_t n)
{
	size_t need = st_add(st_add(b->len, n), 1);
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = st_mul(cap, 2);
	if (b->cap) {
		b->s = xrealloc(b->s, cap);
	} else {
		b->s = xmalloc(cap);
		b->s[0] = '\0';
	}
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	buf_grow(b, n);
	memmove(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, int c)
{
	char ch = (char)c;

	buf_add(b, &ch, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->s + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		kom_die(KOM_EX_SOFTWARE, "buf_vprintf: bad format");
	if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_release(struct buf *b)
{
	char *s = b->cap ? b->s : xstrdup("");

	buf_init(b);
	return s;
}

void
buf_replace_all(struct buf *b, const char *from, const char *to)
{
	struct buf out = BUF_INIT;
	size_t flen = strlen(from);
	const char *p, *q;

	if (!flen || !strstr(b->s, from))
		return;
	for (p = b->s; (q = strstr(p, from)); p = q + flen) {
		buf_add(&out, p, (size_t)(q - p));
		buf_adds(&out, to);
	}
	buf_add(&out, p, (size_t)(b->s + b->len - p));
	buf_free(b);
	*b = out;
}
