/*
 * httpreq: one bounded HTTP/1.1 request, read from a file descriptor
 * (kom-poll webhook: a socket from inetd or systemd's Accept=yes, or one
 * accepted in listening mode).
 *
 * Everything here comes from the network, so every size is capped: the
 * request line and headers together (HTTPREQ_MAX_HEAD), their number
 * (HTTPREQ_MAX_HEADERS), and the body (the caller's cap, announced by
 * Content-Length; chunked bodies are refused, as no git host sends them).
 * The whole request must arrive before a deadline, so that a slow client
 * holds one process for a bounded time.
 *
 * httpreq_parse_head() is the pure part (fuzzed: tests/fuzz/httpreq.c);
 * httpreq_read() adds the reads and the body.  Both return 0, or the HTTP
 * status to answer (400, 408, 411, 413, 431, 501, 505) with the reason
 * in err; nothing is printed.  The struct is the caller's, released with
 * httpreq_free() in every case.
 */
#ifndef KOM_HTTPREQ_H
#define KOM_HTTPREQ_H

#include <stddef.h>

#include "buf.h"

#define HTTPREQ_MAX_HEAD (16u << 10)	/* request line + headers: 16 KiB */
#define HTTPREQ_MAX_HEADERS 100

struct httpreq_header {
	char *name;		/* as sent; compare without case */
	char *value;		/* leading and trailing blanks removed */
};

struct httpreq {
	char *method;		/* "POST" */
	char *target;		/* "/listener/github/sync/x/sync", no query */
	char *query;		/* after '?', or NULL */
	struct httpreq_header *h;
	size_t nh;
	size_t clen;		/* Content-Length, 0 when absent */
	char *body;		/* clen bytes and a NUL */
	size_t blen;
};

/*
 * Parse the head (request line and header lines, len bytes, without the
 * blank line that ends it) into rq.
 */
int httpreq_parse_head(const char *head, size_t len, size_t max_body,
    struct httpreq *rq, struct buf *err);

/*
 * Read one request from in: head, then the body (at most max_body bytes),
 * all before deadline_ms (kom_mono_ms()).  A client that sent "Expect:
 * 100-continue" is told to go on through out (-1: never).  Bytes after
 * the body are ignored.
 */
int httpreq_read(int in, int out, size_t max_body, long long deadline_ms,
    struct httpreq *rq, struct buf *err);

/* The first header called name (any case), or NULL. */
const char *httpreq_header(const struct httpreq *rq, const char *name);

void httpreq_free(struct httpreq *rq);

/* The reason phrase of status ("Unauthorized"). */
const char *httpreq_reason(int status);

#endif
