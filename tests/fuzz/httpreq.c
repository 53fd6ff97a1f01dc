/*
 * fuzz/httpreq: libFuzzer target for lib/httpreq.h, the parser of the
 * requests kom-poll webhook takes from the network:
 *
 *	make tests/fuzz/httpreq
 *	tests/fuzz/httpreq -max_total_time=600 tests/fuzz/corpus/httpreq
 *
 * The input is the bytes a client sends.  They go through a pipe into
 * httpreq_read() (head, Expect, body) and, up to the blank line, into
 * httpreq_parse_head().  Properties: the answer is 0 or one of the
 * documented statuses; on 0 the method is a token, the target a path
 * without blanks, no header value holds CR, LF or NUL, the body is
 * Content-Length bytes within the cap; the two parses agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpreq.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 4096

static void
check(int st, const struct httpreq *rq)
{
	size_t i;

	if (st && st != 400 && st != 408 && st != 411 && st != 413 &&
	    st != 431 && st != 501 && st != 505)
		abort();
	if (st)
		return;
	if (!rq->method || !*rq->method || !rq->target ||
	    rq->target[0] != '/' || strpbrk(rq->target, " \r\n\t?"))
		abort();
	if (rq->clen > CAP || rq->nh > HTTPREQ_MAX_HEADERS)
		abort();
	for (i = 0; i < rq->nh; i++)
		if (!*rq->h[i].name || strpbrk(rq->h[i].value, "\r\n") ||
		    strpbrk(rq->h[i].name, " :\r\n"))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq a, b;
	struct buf err = BUF_INIT;
	const uint8_t *e;
	int p[2], sa, sb;

	if (size > 32768 || pipe(p) < 0)
		return 0;
	if (write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	sa = httpreq_read(p[0], -1, CAP, kom_mono_ms() + 1000, &a, &err);
	close(p[0]);
	check(sa, &a);
	if (sa == 0 && a.blen != a.clen)
		abort();
	/* the head alone, as httpreq_read found it */
	e = NULL;
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && (data[i + 1] == '\n' ||
		    (data[i + 1] == '\r' && i + 2 < size &&
		    data[i + 2] == '\n'))) {
			e = data + i;
			break;
		}
	if (e) {
		sb = httpreq_parse_head((const char *)data,
		    (size_t)(e - data), CAP, &b, &err);
		check(sb, &b);
		if (sa == 0 && (sb || strcmp(a.target, b.target) ||
		    a.nh != b.nh || a.clen != b.clen))
			abort();
		httpreq_free(&b);
	}
	httpreq_free(&a);
	buf_free(&err);
	return 0;
}
