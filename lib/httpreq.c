/* httpreq: one bounded HTTP/1.1 request (httpreq.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "httpreq.h"
#include "util.h"
#include "banned.h"

static int
fail(struct buf *err, int status, const char *msg)
{
	buf_reset(err);
	buf_adds(err, msg);
	return status;
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int
parse_clen(const char *v, size_t *out)
{
	size_t n = 0;

	if (!*v)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > ((size_t)-1 - 9) / 10)
			return -1;
		n = n * 10 + (size_t)(*v - '0');
	}
	*out = n;
	return 0;
}

static int
request_line(const char *l, size_t n, struct httpreq *rq, struct buf *err)
{
	const char *sp1, *sp2, *q, *end = l + n;
	size_t i;

	if (!(sp1 = memchr(l, ' ', n)) || sp1 == l)
		return fail(err, 400, "malformed request line");
	for (i = 0; l + i < sp1; i++)
		if (!is_tchar((unsigned char)l[i]))
			return fail(err, 400, "malformed method");
	if (!(sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) ||
	    sp2 == sp1 + 1)
		return fail(err, 400, "malformed request line");
	if (sp1[1] != '/')
		return fail(err, 400, "request target is not a path");
	for (q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return fail(err, 400, "bad byte in request target");
	if ((size_t)(end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return fail(err, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	rq->method = xstrndup(l, (size_t)(sp1 - l));
	if ((q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1)))) {
		rq->target = xstrndup(sp1 + 1, (size_t)(q - sp1 - 1));
		rq->query = xstrndup(q + 1, (size_t)(sp2 - q - 1));
	} else
		rq->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	return 0;
}

static int
header_line(const char *l, size_t n, size_t max_body, struct httpreq *rq,
    int *have_clen, struct buf *err)
{
	const char *colon, *v, *ve;
	struct httpreq_header *h;
	size_t i, clen;

	if (*l == ' ' || *l == '\t')
		return fail(err, 400, "folded header line");
	if (!(colon = memchr(l, ':', n)) || colon == l)
		return fail(err, 400, "malformed header line");
	for (i = 0; l + i < colon; i++)
		if (!is_tchar((unsigned char)l[i]))
			return fail(err, 400, "malformed header name");
	for (v = colon + 1, ve = l + n; v < ve && (*v == ' ' || *v == '\t');
	    v++)
		;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (i = 0; v + i < ve; i++)
		if (((unsigned char)v[i] < ' ' && v[i] != '\t') ||
		    v[i] == 0x7f)
			return fail(err, 400, "control byte in header value");
	if (rq->nh == HTTPREQ_MAX_HEADERS)
		return fail(err, 431, "too many header lines");
	rq->h = xreallocarray(rq->h, rq->nh + 1, sizeof(*rq->h));
	h = &rq->h[rq->nh++];
	h->name = xstrndup(l, (size_t)(colon - l));
	h->value = xstrndup(v, (size_t)(ve - v));
	if (!strcasecmp(h->name, "Transfer-Encoding"))
		return fail(err, 501, "Transfer-Encoding is not served (send "
		    "Content-Length)");
	if (!strcasecmp(h->name, "Content-Length")) {
		if (parse_clen(h->value, &clen) < 0 ||
		    (*have_clen && clen != rq->clen))
			return fail(err, 400, "bad Content-Length");
		if (clen > max_body)
			return fail(err, 413, "body larger than the cap");
		rq->clen = clen;
		*have_clen = 1;
	}
	return 0;
}

int
httpreq_parse_head(const char *head, size_t len, size_t max_body,
    struct httpreq *rq, struct buf *err)
{
	const char *p = head, *end = head + len, *nl;
	size_t n;
	int rc, first = 1, have_clen = 0;

	memset(rq, 0, sizeof(*rq));
	if (len > HTTPREQ_MAX_HEAD)
		return fail(err, 431, "request head larger than 16 KiB");
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) || memchr(p, '\r', n))
			return fail(err, 400, "bad byte in request head");
		if (first) {
			if ((rc = request_line(p, n, rq, err)))
				return rc;
			first = 0;
		} else if (!n)
			return fail(err, 400, "empty header line");
		else if ((rc = header_line(p, n, max_body, rq, &have_clen,
		    err)))
			return rc;
		p = nl ? nl + 1 : end;
	}
	if (first)
		return fail(err, 400, "empty request");
	return 0;
}

/* Wait until fd is readable or the deadline passes: 0, or 408. */
static int
wait_in(int fd, long long deadline_ms, struct buf *err)
{
	struct pollfd pfd;
	long long left;
	int k;

	for (;;) {
		left = deadline_ms - kom_mono_ms();
		if (left <= 0)
			return fail(err, 408, "request not complete before "
			    "the deadline");
		pfd.fd = fd;
		pfd.events = POLLIN;
		k = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (k > 0)
			return 0;
		if (k < 0 && errno != EINTR)
			return fail(err, 400, "poll failed");
	}
}

/* Where the head ends in b (the index of the body), or 0 when not yet. */
static size_t
head_end(const char *b, size_t n, size_t *headlen)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n') {
			*headlen = i;
			return i + 2;
		}
		if (b[i + 1] == '\r' && i + 2 < n && b[i + 2] == '\n') {
			*headlen = i;
			return i + 3;
		}
	}
	return 0;
}

static void
write_all(int fd, const char *s, size_t n)
{
	ssize_t k;

	while (n) {
		k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

int
httpreq_read(int in, int out, size_t max_body, long long deadline_ms,
    struct httpreq *rq, struct buf *err)
{
	struct buf b = BUF_INIT;
	size_t body = 0, headlen = 0, have;
	const char *ex;
	ssize_t k;
	int rc;

	memset(rq, 0, sizeof(*rq));
	/* the head: read until the blank line, at most the cap (and the
	 * blank line) */
	while (!(body = head_end(b.s ? b.s : "", b.len, &headlen))) {
		if (b.len > HTTPREQ_MAX_HEAD + 4) {
			buf_free(&b);
			return fail(err, 431, "request head larger than "
			    "16 KiB");
		}
		if ((rc = wait_in(in, deadline_ms, err))) {
			buf_free(&b);
			return rc;
		}
		buf_grow(&b, 4096);
		k = read(in, b.s + b.len, 4096);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			buf_free(&b);
			return fail(err, 400, "connection closed before the "
			    "request was complete");
		}
		b.len += (size_t)k;
		b.s[b.len] = '\0';
	}
	if ((rc = httpreq_parse_head(b.s, headlen, max_body, rq, err))) {
		buf_free(&b);
		return rc;
	}
	ex = httpreq_header(rq, "Expect");
	if (ex && !strcasecmp(ex, "100-continue") && b.len - body <
	    rq->clen && out >= 0)
		write_all(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	rq->body = xmalloc(st_add(rq->clen, 1));
	have = b.len - body < rq->clen ? b.len - body : rq->clen;
	memcpy(rq->body, b.s + body, have);
	buf_free(&b);
	while (have < rq->clen) {
		if ((rc = wait_in(in, deadline_ms, err)))
			return rc;
		k = read(in, rq->body + have, rq->clen - have);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return fail(err, 400, "connection closed before the "
			    "body was complete");
		have += (size_t)k;
	}
	rq->body[have] = '\0';
	rq->blen = have;
	return 0;
}

const char *
httpreq_header(const struct httpreq *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->nh; i++)
		if (!strcasecmp(rq->h[i].name, name))
			return rq->h[i].value;
	return NULL;
}

void
httpreq_free(struct httpreq *rq)
{
	size_t i;

	for (i = 0; i < rq->nh; i++) {
		free(rq->h[i].name);
		free(rq->h[i].value);
	}
	free(rq->h);
	free(rq->method);
	free(rq->target);
	free(rq->query);
	free(rq->body);
	memset(rq, 0, sizeof(*rq));
}

const char *
httpreq_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
