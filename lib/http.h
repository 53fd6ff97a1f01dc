/*
 * http: outgoing requests with a deadline, run side by side through one
 * libcurl multi handle: an HTTP POST (kom-alert's webhooks, any program
 * that notifies) or an SMTP submission (libcurl's smtp:// and smtps://).
 *
 * Each struct http_req is filled by the caller (the "in" members, all
 * borrowed until http_run returns) and http_run() fills the "out" ones.
 * No request waits for another: a receiver that hangs costs its own
 * deadline and nothing else.  Nothing is printed; err says what failed,
 * with the URL as given (the caller masks secrets in it).
 *
 * http_retry_after() parses a Retry-After value from outside: RFC 9110
 * delta-seconds or an IMF-fixdate, bounded, no allocation.
 */
#ifndef KOM_HTTP_H
#define KOM_HTTP_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define HTTP_MAX_RESPONSE (64u << 10)	/* response body kept: 64 KiB */

enum http_kind { HTTP_POST, HTTP_SMTP };

/* Outcome classes, for the caller's retry decision. */
enum http_outcome {
	HTTP_OK,	/* 2xx, or the SMTP server took the message */
	HTTP_TEMP,	/* refused, timeout, DNS, 5xx, 408, 425, 429: retry */
	HTTP_PERM	/* any other 4xx, a bad URL, a TLS or auth refusal */
};

struct http_req {
	/* in */
	enum http_kind kind;
	const char *url;		/* http(s):// or smtp(s):// */
	const char *const *headers;	/* "Name: value", NULL-terminated */
	const char *body;		/* request body (HTTP) or message (SMTP) */
	size_t len;
	long timeout_ms;		/* whole request, connect included */
	const char *cafile;		/* trust this CA bundle (NULL: system) */
	/* SMTP only */
	const char *mail_from;
	const char *const *rcpt;	/* NULL-terminated */
	const char *user, *pass;	/* AUTH when user is set */
	int starttls;			/* smtp://: require STARTTLS */
	/*
	 * Called once the connection is up, just before the request is
	 * written (libcurl's prereq hook), so the caller can journal "the
	 * receiver may have it from now on".  Return non-zero to abort.
	 */
	int (*on_send)(void *ctx);
	void *ctx;

	/* out */
	enum http_outcome outcome;
	long status;			/* HTTP status or last SMTP reply, 0 */
	long retry_after_ms;		/* from Retry-After, -1 when absent */
	int sent;			/* on_send was called */
	char err[256];			/* "" on HTTP_OK */
	struct buf resp;		/* response body, capped (caller frees) */
};

/* Set the defaults of the in members (timeout 10 s) and clear the out. */
void http_req_init(struct http_req *r);
void http_req_free(struct http_req *r);

/*
 * Run n requests at once and wait for all of them.  Returns 0 when each
 * one has its outcome filled in, -1 when libcurl could not be set up
 * (then every outcome is HTTP_TEMP with err set).
 */
int http_run(struct http_req **reqs, size_t n);

/*
 * The delay a Retry-After value asks for, in ms (0 for a date in the
 * past), capped at max_ms.  now is the current time (for dates).  Returns
 * 0 on success, -1 for a value that is neither form.
 */
int http_retry_after(const char *value, size_t len, time_t now, long max_ms,
    long *ms);

/* Append s form-urlencoded (application/x-www-form-urlencoded) to b. */
void http_form_escape(struct buf *b, const char *s);

#endif
