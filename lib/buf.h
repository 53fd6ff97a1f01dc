/*
 * buf: a growable byte string, always NUL-terminated.
 *
 * A struct buf is owned by whoever declared it; BUF_INIT or buf_init()
 * makes it empty without allocating.  Every add grows it as needed and
 * dies on overflow or lack of memory, so none of them can fail.
 * buf_free() releases the storage; buf_release() hands it to the caller.
 */
#ifndef KOM_BUF_H
#define KOM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;	/* never NULL: "" until something is added */
	size_t len;
	size_t cap;
};

extern char kom_buf_empty[];
#define BUF_INIT { kom_buf_empty, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empty b but keep its storage. */
void buf_reset(struct buf *b);
/* Shorten b to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* Make room for n more bytes beyond len. */
void buf_grow(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, int c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Detach the string: the caller frees it; b is empty again. */
char *buf_release(struct buf *b);
/* Replace every occurrence of from (non-empty) by to. */
void buf_replace_all(struct buf *b, const char *from, const char *to);

#endif
