#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "util.h"
#include "banned.h"

struct xfer {
	struct http_req *r;
	CURL *h;
	struct curl_slist *hdrs, *rcpt;
	size_t off;		/* SMTP upload position */
	time_t started;
};

void
http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->timeout_ms = 10000;
	r->retry_after_ms = -1;
	buf_init(&r->resp);
}

void
http_req_free(struct http_req *r)
{
	buf_free(&r->resp);
}

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n, room;

	room = x->r->resp.len < HTTP_MAX_RESPONSE ?
	    HTTP_MAX_RESPONSE - x->r->resp.len : 0;
	buf_add(&x->r->resp, p, len < room ? len : room);
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	long ms;

	if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1) &&
	    http_retry_after(p + sizeof(name) - 1, len - (sizeof(name) - 1),
	    x->started, 24L * 3600 * 1000, &ms) == 0)
		x->r->retry_after_ms = ms;
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t want = size * n, left = x->r->len - x->off;

	if (want > left)
		want = left;
	memcpy(p, x->r->body + x->off, want);
	x->off += want;
	return want;
}

static int
on_prereq(void *ctx, char *ip, char *lip, int rport, int lport)
{
	struct xfer *x = ctx;

	x->r->sent = 1;
	if (x->r->on_send && x->r->on_send(x->r->ctx))
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}

static int
setup(struct xfer *x)
{
	struct http_req *r = x->r;
	CURL *h = curl_easy_init();

	if (!(x->h = h))
		return -1;
	x->started = time(NULL);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	if (r->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->cafile);
	for (size_t i = 0; r->headers && r->headers[i]; i++)
		x->hdrs = curl_slist_append(x->hdrs, r->headers[i]);
	if (r->kind == HTTP_POST) {
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->len);
		/* No "Expect: 100-continue" round trip for large bodies. */
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	} else {
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->len);
		if (r->mail_from)
			curl_easy_setopt(h, CURLOPT_MAIL_FROM, r->mail_from);
		for (size_t i = 0; r->rcpt && r->rcpt[i]; i++)
			x->rcpt = curl_slist_append(x->rcpt, r->rcpt[i]);
		curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->rcpt);
		if (r->user && *r->user) {
			curl_easy_setopt(h, CURLOPT_USERNAME, r->user);
			curl_easy_setopt(h, CURLOPT_PASSWORD,
			    r->pass ? r->pass : "");
		}
		if (r->starttls)
			curl_easy_setopt(h, CURLOPT_USE_SSL,
			    (long)CURLUSESSL_ALL);
	}
	return 0;
}

/* Temporary unless the failure says the same request can never work. */
static enum http_outcome
classify(CURLcode rc, enum http_kind kind, long status)
{
	if (rc == CURLE_OK) {
		if (kind == HTTP_SMTP || (status >= 200 && status < 300))
			return HTTP_OK;
		if (status == 408 || status == 425 || status == 429 ||
		    status >= 500)
			return HTTP_TEMP;
		return HTTP_PERM;
	}
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_LOGIN_DENIED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_NOT_BUILT_IN:
		return HTTP_PERM;
	default:
		break;
	}
	/* An SMTP server's 5xx reply (mailbox unknown, message refused). */
	if (kind == HTTP_SMTP && status >= 500 && status < 600)
		return HTTP_PERM;
	return HTTP_TEMP;
}

static void
finish(struct xfer *x, CURLcode rc, const char *errbuf)
{
	struct http_req *r = x->r;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	r->outcome = classify(rc, r->kind, status);
	if (r->outcome == HTTP_OK)
		r->err[0] = '\0';
	else if (rc != CURLE_OK && status)
		snprintf(r->err, sizeof(r->err), "%s (server replied %ld)",
		    *errbuf ? errbuf : curl_easy_strerror(rc), status);
	else if (rc != CURLE_OK)
		snprintf(r->err, sizeof(r->err), "%s",
		    *errbuf ? errbuf : curl_easy_strerror(rc));
	else
		snprintf(r->err, sizeof(r->err), "status %ld", status);
}

int
http_run(struct http_req **reqs, size_t n)
{
	struct xfer *xs = xcalloc(n ? n : 1, sizeof(*xs));
	char (*errs)[CURL_ERROR_SIZE] = xcalloc(n ? n : 1, sizeof(*errs));
	CURLM *m = curl_multi_init();
	int running = 0, rc = 0;
	CURLMsg *msg;
	int left;

	for (size_t i = 0; i < n; i++) {
		xs[i].r = reqs[i];
		reqs[i]->outcome = HTTP_TEMP;
		reqs[i]->status = 0;
		reqs[i]->retry_after_ms = -1;
		reqs[i]->sent = 0;
		buf_reset(&reqs[i]->resp);
		snprintf(reqs[i]->err, sizeof(reqs[i]->err),
		    "cannot set up the request");
		if (!m || setup(&xs[i]) < 0) {
			rc = -1;
			continue;
		}
		curl_easy_setopt(xs[i].h, CURLOPT_ERRORBUFFER, errs[i]);
		if (curl_multi_add_handle(m, xs[i].h) != CURLM_OK)
			rc = -1;
	}
	if (m && rc == 0) {
		do {
			if (curl_multi_perform(m, &running) != CURLM_OK)
				break;
			while ((msg = curl_multi_info_read(m, &left))) {
				struct xfer *x;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, (char **)&x);
				finish(x, msg->data.result,
				    errs[x - xs]);
			}
			if (running && curl_multi_poll(m, NULL, 0, 1000,
			    NULL) != CURLM_OK)
				break;
		} while (running);
	}
	for (size_t i = 0; i < n; i++) {
		if (xs[i].h) {
			if (m)
				curl_multi_remove_handle(m, xs[i].h);
			curl_easy_cleanup(xs[i].h);
		}
		curl_slist_free_all(xs[i].hdrs);
		curl_slist_free_all(xs[i].rcpt);
	}
	if (m)
		curl_multi_cleanup(m);
	free(xs);
	free(errs);
	return rc;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Parse exactly ndigits decimal digits at *p. */
static int
digits(const char **p, const char *end, int nd, int *out)
{
	int v = 0;

	for (int i = 0; i < nd; i++, (*p)++) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

static int
lit(const char **p, const char *end, const char *s)
{
	size_t l = strlen(s);

	if ((size_t)(end - *p) < l || memcmp(*p, s, l))
		return -1;
	*p += l;
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) into a UTC time. */
static int
imf_fixdate(const char *p, const char *end, time_t *out)
{
	int day, year, hh, mm, ss, mon = -1;
	struct tm tm;

	if (end - p < 29 || p[3] != ',' || p[4] != ' ')
		return -1;
	p += 5;
	if (digits(&p, end, 2, &day) || lit(&p, end, " "))
		return -1;
	for (int i = 0; i < 12; i++)
		if (end - p >= 3 && !memcmp(p, months[i], 3))
			mon = i;
	if (mon < 0)
		return -1;
	p += 3;
	if (lit(&p, end, " ") || digits(&p, end, 4, &year) ||
	    lit(&p, end, " ") || digits(&p, end, 2, &hh) ||
	    lit(&p, end, ":") || digits(&p, end, 2, &mm) ||
	    lit(&p, end, ":") || digits(&p, end, 2, &ss) ||
	    lit(&p, end, " GMT") || p != end)
		return -1;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

int
http_retry_after(const char *value, size_t len, time_t now, long max_ms,
    long *ms)
{
	const char *p = value, *end = value + len;
	long long secs = 0;
	time_t t;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (p == end)
		return -1;
	if (isdigit((unsigned char)*p)) {
		for (; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			if (secs < LLONG_MAX / 10000)
				secs = secs * 10 + (*p - '0');
		}
	} else {
		if (imf_fixdate(p, end, &t) < 0)
			return -1;
		secs = t > now ? (long long)(t - now) : 0;
	}
	*ms = secs >= max_ms / 1000 ? max_ms : (long)(secs * 1000);
	return 0;
}

void
http_form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*')
			buf_addc(b, c);
		else if (c == ' ')
			buf_addc(b, '+');
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}
