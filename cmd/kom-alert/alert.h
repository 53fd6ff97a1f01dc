/*
 * kom-alert's parts: the delivery journal and the open alerts (journal.c),
 * the requests per endpoint (endpoint.c), the run (kom-alert.c).
 */
#ifndef KOM_ALERT_CMD_H
#define KOM_ALERT_CMD_H

#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "spool.h"
#include "vars.h"

struct opts {
	int once;		/* -o: one pass, leave what is not due */
	long tries;		/* -n: attempts per endpoint */
	long backoff_ms;	/* -b: first retry delay, doubling */
	long timeout_ms;	/* -t: deadline of one request */
	long long repeat_ms;	/* -r: repeat of a long-open alert, 0 never */
	long parallel;		/* -j: requests at once */
	const char *link;	/* -u: base of resource links */
};

/* ---- journal.c: STATE/alerts ---- */

/* Where a delivery stands, as journalled. */
enum dstate { D_NEW, D_SENDING, D_SENT, D_RETRY, D_FAILED, D_SKIPPED,
    D_UNCONFIRMED };

struct journal_rec {
	enum dstate state;
	long tries;
	long long next_ms;	/* D_RETRY: not before */
	char *reason;		/* D_RETRY, D_FAILED: masked */
};

/* STATE/alerts/{journal,open} made as needed; -1 after a message. */
int journal_init(const char *statedir);
/* The flock that makes one kom-alert at a time: fd, or -1 (EWOULDBLOCK). */
int journal_lock(const char *statedir);
/* Read (absent: D_NEW) and write one (alert id, alerter) record. */
void journal_get(const char *statedir, const char *id, const char *alerter,
    struct journal_rec *r);
int journal_put(const char *statedir, const char *id, const char *alerter,
    const struct journal_rec *r);
void journal_rec_free(struct journal_rec *r);
/* Make the journal writes so far durable (fsync of the directory). */
int journal_sync(const char *statedir);
/* Forget journal records older than max_age_ms. */
void journal_prune(const char *statedir, long long max_age_ms);

/*
 * The open-alert decision for rec (id: its alert id) at now: returns the
 * record to send (a new reference: rec itself, or the resolved copy with
 * level OK) or NULL when nothing is sent, *why saying why ("repeat while
 * open", "nothing open to resolve").  The decision is written to
 * STATE/alerts/open/ before it is acted on, so a rerun decides the same.
 * -1 in *err on a write error (after a message), and NULL.
 */
json_t *open_decide(const char *statedir, const json_t *rec, const char *id,
    long long now_ms, long long repeat_ms, const char **why, int *err);

/* The alert id: 32 hex digits of the SHA-256 of the canonical record. */
void alert_id(const json_t *rec, char out[33]);

/* ---- endpoint.c ---- */

/* One request being prepared for an alerter's endpoint. */
struct endpoint_req {
	struct http_req http;
	char *url;		/* interpolated: may hold secrets */
	char *user, *pass;	/* SMTP, interpolated */
	char *from, *cafile;
	char **rcpt;
	char **headers;
	struct buf body;
	int empty;		/* nothing to send for this alert type */
};

/*
 * Fill r for sending alert to the alerter's endpoint (its config object).
 * Returns 0, or -1 with a masked, permanent reason in err (a bad endpoint,
 * an undefined [[NAME]]).
 */
int endpoint_prepare(struct endpoint_req *r, const json_t *config,
    const json_t *alert, const char *id, struct vars *v,
    const struct opts *o, struct buf *err);
void endpoint_req_free(struct endpoint_req *r);

#endif
