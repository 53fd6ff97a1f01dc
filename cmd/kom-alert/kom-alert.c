/*
 * kom-alert: the last stage of kom's alerts.  Reads alert records from
 * the spool's alert queue (SPOOL/alert/new, written by kom-exec and the
 * other programs) or from a JSON-lines stream, which it queues first;
 * decides with the open alerts in STATE/alerts/open whether each is new,
 * an escalation, a repeat or a resolve; routes it through the applied
 * [[alerter]]s (STATE/resources/alerter) and delivers it to each one's
 * endpoint over HTTP or SMTP.  A delivery that fails for now is tried
 * again with exponential backoff, per endpoint; the journal in
 * STATE/alerts/journal makes each (alert, alerter) go out at most once
 * across kills and reruns.  stdout: one "delivery" record per decision.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alert.h"
#include "alertroute.h"
#include "config.h"
#include "file.h"
#include "jsonl.h"
#include "paths.h"
#include "spool.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-alert [-o] [-b ms] [-j n] [-n tries] [-r seconds] "
    "[-t ms] [-u url] [file]\n";

#define MAX_ITEMS 256		/* spool entries held (claimed) at once */
#define JOURNAL_KEEP_MS (7LL * 24 * 3600 * 1000)

struct item;

struct delivery {
	struct item *it;
	const char *alerter;		/* borrowed from the run's alerters */
	const char *statedir;		/* borrowed from the run */
	const json_t *config;
	struct journal_rec j;
	struct endpoint_req req;
	int active;			/* in the batch being sent */
};

struct item {
	struct spool_entry e;
	json_t *rec;			/* as queued */
	json_t *send;			/* what goes out (NULL: nothing) */
	char id[33];
	struct delivery *d;
	size_t nd;
	int finished;
};

struct run {
	struct opts o;
	struct kom_paths paths;
	struct vars *vars;
	json_t *alerters;		/* array of applied records */
	struct item **items;
	size_t nitems, capitems;
	long sent, failed, retried, skipped, suppressed, unconfirmed;
	char **names;			/* a listing of new/ being claimed */
	size_t nnames, nextname;
	int wrc;
};

static void
emit(struct run *r, const struct item *it, const char *alerter,
    const char *status, const char *reason, long tries)
{
	json_t *o = json_pack("{s:s, s:s, s:O, s:s, s:s}", "kind",
	    "delivery", "alert", it->id, "target", json_object_get(it->rec,
	    "target"), "type", alertroute_type(it->rec), "status", status);

	if (alerter)
		json_object_set_new(o, "alerter", json_string(alerter));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (tries)
		json_object_set_new(o, "tries", json_integer(tries));
	r->wrc |= jsonl_write_steal(stdout, o);
	fflush(stdout);
}

static long long
backoff(const struct opts *o, long tries)
{
	long long ms = o->backoff_ms;

	for (long i = 1; i < tries && ms < 3600000; i++)
		ms *= 2;
	return ms < 3600000 ? ms : 3600000;
}

/* Whether list (a SendAlert's alerters, or the applied alerters' records
 * when key is "name") holds name. */
static int
named(const json_t *list, const char *key, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (!strcmp(key ? jsonl_str(v, key, "") : json_is_string(v) ?
		    json_string_value(v) : "", name))
			return 1;
	return 0;
}

/* The names a SendAlert lists that are not applied alerters, said once
 * per alert. */
static void
unknown_named(struct run *r, struct item *it, const json_t *list)
{
	struct buf b = BUF_INIT;
	const json_t *v;
	size_t i, unknown = 0;

	json_array_foreach(list, i, v) {
		if (named(r->alerters, "name", json_is_string(v) ?
		    json_string_value(v) : ""))
			continue;
		if (unknown++ < 8)
			buf_printf(&b, "%s'%s'", b.len ? ", " : "",
			    json_is_string(v) ? json_string_value(v) : "?");
	}
	if (unknown) {
		if (unknown > 8)
			buf_printf(&b, " and %zu more", unknown - 8);
		buf_adds(&b, unknown == 1 ? " is not an applied alerter" :
		    " are not applied alerters");
		kom_warn("alert %s: %s", it->id, b.s);
		emit(r, it, NULL, "skipped", b.s, 0);
		r->skipped++;
	}
	buf_free(&b);
}

/* Decide what an item sends and to whom; journal what is known. */
static int
plan_item(struct run *r, struct item *it)
{
	const char *why, *name;
	size_t i, n = json_array_size(r->alerters);
	long long now = kom_wall_ms();
	json_t *a, *only;
	int err;

	alert_id(it->rec, it->id);
	it->send = open_decide(r->paths.state, it->rec, it->id, now,
	    r->o.repeat_ms, &why, &err);
	if (err)
		return -1;
	if (!it->send) {
		emit(r, it, NULL, "suppressed", why, 0);
		r->suppressed++;
		return 0;
	}
	it->d = xcalloc(n ? n : 1, sizeof(*it->d));
	/* a SendAlert that names its alerters: those only */
	only = json_object_get(it->rec, "alerters");
	if (!json_array_size(only))
		only = NULL;
	else
		unknown_named(r, it, only);
	json_array_foreach(r->alerters, i, a) {
		struct delivery *d;

		name = json_string_value(json_object_get(a, "name"));
		if (!name)
			continue;
		if (only && !named(only, NULL, name)) {
			emit(r, it, name, "skipped", "not among the alerters "
			    "the alert names", 0);
			r->skipped++;
			continue;
		}
		why = alertroute_skip(json_object_get(a, "config"), it->send,
		    now);
		d = &it->d[it->nd];
		d->it = it;
		d->alerter = name;
		d->statedir = r->paths.state;
		d->config = json_object_get(a, "config");
		journal_get(r->paths.state, it->id, name, &d->j);
		/* a retry too: the alerter may have been disabled since */
		if ((d->j.state == D_NEW || d->j.state == D_RETRY) && why) {
			emit(r, it, name, "skipped", why, 0);
			r->skipped++;
			journal_rec_free(&d->j);
			continue;
		}
		if (d->j.state == D_SENDING) {
			/* killed mid-send: the request was on its way */
			d->j.state = D_UNCONFIRMED;
			free(d->j.reason);
			d->j.reason = xstrdup("kom-alert was stopped while "
			    "sending; not sent again (at most once): the "
			    "receiver most likely has it");
			if (journal_put(r->paths.state, it->id, name,
			    &d->j) < 0)
				return -1;
			kom_warn("alert %s, alerter '%s': %s", it->id, name,
			    d->j.reason);
			emit(r, it, name, "unconfirmed", d->j.reason,
			    d->j.tries);
			r->unconfirmed++;
		}
		it->nd++;
	}
	if (!n) {
		emit(r, it, NULL, "skipped", "no alerter is applied", 0);
		r->skipped++;
	}
	return 0;
}

static int
pending(const struct delivery *d)
{
	return d->j.state == D_NEW || d->j.state == D_RETRY;
}

/* Finish items whose deliveries are all sent or given up on. */
static int
finish_items(struct run *r)
{
	int rc = 0, synced = 0;

	for (size_t i = 0; i < r->nitems; i++) {
		struct item *it = r->items[i];
		struct buf why = BUF_INIT;
		size_t k;

		if (it->finished)
			continue;
		for (k = 0; k < it->nd && !pending(&it->d[k]); k++)
			;
		if (k < it->nd)
			continue;
		for (k = 0; k < it->nd; k++)
			if (it->d[k].j.state == D_FAILED)
				buf_printf(&why, "%salerter '%s': %s",
				    why.len ? "; " : "", it->d[k].alerter,
				    it->d[k].j.reason ? it->d[k].j.reason :
				    "failed");
		/* the journal before the entry: a crash must not lose
		 * "sent" while the entry survives */
		if (!synced++ && journal_sync(r->paths.state) < 0)
			rc = -1;
		if (why.len ? spool_fail(&it->e, why.s) : spool_done(&it->e)) {
			kom_warne("%s/alert: %s", r->paths.spool, it->e.name ?
			    it->e.name : it->id);
			rc = -1;
		}
		it->finished = 1;
		buf_free(&why);
	}
	return rc;
}

static int
on_send_journal(void *ctx)
{
	struct delivery *d = ctx;
	struct journal_rec j = d->j;

	j.state = D_SENDING;
	j.reason = NULL;
	return journal_put(d->statedir, d->it->id, d->alerter, &j) ? 1 : 0;
}

/* After a request: sent, retry later, or failed for good. */
static int
settle(struct run *r, struct delivery *d, long long now)
{
	struct http_req *h = &d->req.http;
	char *m;

	d->j.tries++;
	free(d->j.reason);
	d->j.reason = NULL;
	if (h->outcome == HTTP_OK) {
		d->j.state = D_SENT;
	} else {
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s: %s", d->req.url, h->err);
		if (h->resp.len)
			buf_printf(&b, ": %.200s", h->resp.s);
		m = vars_mask(r->vars, b.s);
		buf_free(&b);
		d->j.reason = m;
		if (h->outcome == HTTP_TEMP && d->j.tries < r->o.tries) {
			long long wait = backoff(&r->o, d->j.tries);

			if (h->retry_after_ms > wait)
				wait = h->retry_after_ms;
			d->j.state = D_RETRY;
			d->j.next_ms = now + wait;
		} else {
			d->j.state = D_FAILED;
		}
	}
	if (journal_put(r->paths.state, d->it->id, d->alerter, &d->j) < 0)
		return -1;
	switch (d->j.state) {
	case D_SENT:
		emit(r, d->it, d->alerter, "sent", NULL, d->j.tries);
		r->sent++;
		break;
	case D_RETRY:
		emit(r, d->it, d->alerter, "retry", d->j.reason, d->j.tries);
		r->retried++;
		break;
	default:
		emit(r, d->it, d->alerter, "failed", d->j.reason, d->j.tries);
		r->failed++;
		break;
	}
	return 0;
}

/* Send every due delivery, at most -j at once.  Returns how many, -1. */
static long
send_due(struct run *r)
{
	long long now = kom_wall_ms();
	struct delivery **batch = xcalloc((size_t)r->o.parallel,
	    sizeof(*batch));
	struct http_req **reqs = xcalloc((size_t)r->o.parallel,
	    sizeof(*reqs));
	size_t n = 0;
	long rc = 0;
	struct buf err = BUF_INIT;

	for (size_t i = 0; i < r->nitems && n < (size_t)r->o.parallel; i++) {
		struct item *it = r->items[i];

		for (size_t k = 0; k < it->nd && n < (size_t)r->o.parallel;
		    k++) {
			struct delivery *d = &it->d[k];

			if (!pending(d) || (d->j.state == D_RETRY &&
			    d->j.next_ms > now))
				continue;
			buf_reset(&err);
			if (endpoint_prepare(&d->req, d->config, it->send,
			    it->id, r->vars, &r->o, &err) < 0 ||
			    d->req.empty) {
				d->j.state = err.len ? D_FAILED : D_SENT;
				free(d->j.reason);
				d->j.reason = err.len ? xstrdup(err.s) : NULL;
				if (journal_put(r->paths.state, it->id,
				    d->alerter, &d->j) < 0)
					rc = -1;
				emit(r, it, d->alerter, err.len ? "failed" :
				    "sent", err.len ? err.s : "nothing to "
				    "send for this type", 0);
				err.len ? r->failed++ : r->sent++;
				endpoint_req_free(&d->req);
				continue;
			}
			d->req.http.on_send = on_send_journal;
			d->req.http.ctx = d;
			batch[n] = d;
			reqs[n++] = &d->req.http;
		}
	}
	buf_free(&err);
	if (n)
		http_run(reqs, n);
	now = kom_wall_ms();
	for (size_t i = 0; i < n; i++) {
		if (settle(r, batch[i], now) < 0)
			rc = -1;
		endpoint_req_free(&batch[i]->req);
	}
	free(batch);
	free(reqs);
	return rc < 0 ? -1 : (long)n;
}

/* Claim what new/ holds (up to MAX_ITEMS in hand).  -1 on error. */
static int
claim_more(struct run *r)
{
	size_t open = 0;
	int relisted = 0;

	for (size_t i = 0; i < r->nitems; i++)
		open += !r->items[i]->finished;
	while (open < MAX_ITEMS) {
		struct item *it;
		struct buf b = BUF_INIT;
		json_error_t je;
		const char *why;
		int c;

		/* one listing of new/ serves many claims */
		if (r->nextname == r->nnames) {
			spool_names_free(r->names, r->nnames);
			r->names = NULL;
			r->nnames = r->nextname = 0;
			if (relisted++)
				return 0;	/* once a round */
			if (spool_list(r->paths.spool, "alert", &r->names,
			    &r->nnames) < 0) {
				kom_warne("%s/alert/new", r->paths.spool);
				return -1;
			}
			if (!r->nnames)
				return 0;
		}
		it = xcalloc(1, sizeof(*it));
		c = spool_claim_name(r->paths.spool, "alert",
		    r->names[r->nextname++], &it->e);
		if (c <= 0) {
			free(it);
			if (c < 0) {
				kom_warne("%s/alert/new", r->paths.spool);
				return -1;
			}
			continue;
		}
		if (file_read_fd(it->e.fd, &b, JSONL_MAX_LINE) < 0 ||
		    !(it->rec = json_loadb(b.s, b.len, 0, &je)) ||
		    alertroute_check(it->rec, &why) < 0) {
			char *reason = it->rec ? xstrdup(why) :
			    xasprintf("not a JSON alert record: %s (line %d)",
			    je.text, je.line);

			kom_warn("%s/alert/cur/%s: %s", r->paths.spool,
			    it->e.name, reason);
			spool_fail(&it->e, reason);
			free(reason);
			json_decref(it->rec);
			buf_free(&b);
			free(it);
			continue;
		}
		buf_free(&b);
		KOM_GROW(r->items, r->nitems + 1, r->capitems);
		r->items[r->nitems++] = it;
		if (plan_item(r, it) < 0)
			return -1;
		open++;
	}
	return 0;
}

/* The earliest retry time of an unfinished item, or 0 when none waits. */
static long long
next_due(const struct run *r)
{
	long long t = 0;

	for (size_t i = 0; i < r->nitems; i++)
		for (size_t k = 0; k < r->items[i]->nd; k++) {
			const struct delivery *d = &r->items[i]->d[k];

			if (d->j.state == D_NEW)
				return kom_wall_ms();
			if (d->j.state == D_RETRY && (!t || d->j.next_ms < t))
				t = d->j.next_ms;
		}
	return t;
}

static void
free_items(struct run *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		struct item *it = r->items[i];

		for (size_t k = 0; k < it->nd; k++)
			journal_rec_free(&it->d[k].j);
		free(it->d);
		json_decref(it->rec);
		json_decref(it->send);
		if (!it->finished)
			spool_retry(&it->e);
		free(it);
	}
	free(r->items);
	r->items = NULL;
	r->nitems = r->capitems = 0;
}

/* Queue the alert records of a stream; 0, or an exit status. */
static int
queue_stream(struct run *r, const char *file)
{
	const char *name = strcmp(file, "-") ? file : "<stdin>";
	FILE *in = strcmp(file, "-") ? fopen(file, "re") : stdin;
	struct jsonl_reader rd;
	json_t *rec, *all = json_array();
	const char *why;
	size_t i;
	int c, rc = 0;

	if (!in) {
		kom_warne("%s", file);
		json_decref(all);
		return KOM_EX_IOERR;
	}
	jsonl_reader_init(&rd, in, name);
	while ((c = jsonl_next(&rd, &rec)) == 1) {
		if (strcmp(jsonl_kind(rec), "alert")) {
			json_decref(rec);	/* other kinds pass by */
			continue;
		}
		if (alertroute_check(rec, &why) < 0) {
			kom_warn("%s:%ld: %s", name, rd.line, why);
			rc = KOM_EX_DATAERR;
		}
		json_array_append_new(all, rec);
	}
	if (c < 0)
		rc = KOM_EX_DATAERR;
	jsonl_reader_free(&rd);
	if (in != stdin)
		fclose(in);
	/* a truncated or bad stream queues nothing */
	json_array_foreach(all, i, rec) {
		char *s;

		if (rc)
			break;
		s = json_dumps(rec, JSON_COMPACT);
		if (spool_put(r->paths.spool, "alert", s, strlen(s), NULL) <
		    0) {
			kom_warne("%s/alert", r->paths.spool);
			rc = KOM_EX_IOERR;
		}
		free(s);
	}
	json_decref(all);
	return rc;
}

static int
number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct run r;
	struct config cfg;
	long long v;
	int c, rc = KOM_EX_OK, lockfd;

	memset(&r, 0, sizeof(r));
	r.o.tries = 8;
	r.o.backoff_ms = 1000;
	r.o.timeout_ms = 10000;
	r.o.repeat_ms = 3600LL * 1000;
	r.o.parallel = 16;
	r.o.link = "";
	while ((c = getopt(argc, argv, "b:hj:n:or:t:u:V")) != -1) {
		switch (c) {
		case 'o': r.o.once = 1; break;
		case 'u': r.o.link = optarg; break;
		case 'b': case 'j': case 'n': case 'r': case 't':
			if (number(optarg, c == 'r' ? 0 : 1, c == 'j' ? 256 :
			    c == 'n' ? 100 : 86400000, &v) < 0) {
				kom_warn("-%c: '%s' is not a number in range",
				    c, optarg);
				return KOM_EX_USAGE;
			}
			if (c == 'b') r.o.backoff_ms = (long)v;
			if (c == 'j') r.o.parallel = (long)v;
			if (c == 'n') r.o.tries = (long)v;
			if (c == 'r') r.o.repeat_ms = v * 1000;
			if (c == 't') r.o.timeout_ms = (long)v;
			break;
		case 'V':
			puts("kom-alert " KOM_VERSION);
			return kom_close_stdout(KOM_EX_OK);
		case 'h':
			fputs(usage, stdout);
			return kom_close_stdout(KOM_EX_OK);
		default: fputs(usage, stderr); return KOM_EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1) {
		fputs(usage, stderr);
		return KOM_EX_USAGE;
	}
	paths_get(&r.paths);
	if (config_load(r.paths.config, 0, &cfg) < 0) {
		paths_free(&r.paths);
		return KOM_EX_CONFIG;
	}
	if (journal_init(r.paths.state) < 0 ||
	    spool_init(r.paths.spool, "alert") < 0) {
		if (errno)
			kom_warne("%s/alert", r.paths.spool);
		rc = KOM_EX_IOERR;
		goto out_cfg;
	}
	/* queued before the lock: a running kom-alert takes them too */
	if (argc && (rc = queue_stream(&r, argv[0])) != 0)
		goto out_cfg;
	if ((lockfd = journal_lock(r.paths.state)) < 0) {
		if (errno == EWOULDBLOCK)
			kom_warn("%s/alerts/lock: another kom-alert is "
			    "running; it takes the new alerts too",
			    r.paths.state);
		else
			kom_warne("%s/alerts/lock", r.paths.state);
		rc = errno == EWOULDBLOCK ? KOM_EX_NO : KOM_EX_IOERR;
		goto out_cfg;
	}
	if (state_load_type(r.paths.state, "alerter", &r.alerters) < 0) {
		rc = KOM_EX_IOERR;
		goto out_lock;
	}
	r.vars = vars_load(r.paths.state, cfg.secrets_dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	journal_prune(r.paths.state, JOURNAL_KEEP_MS);
	if (spool_recover(r.paths.spool, "alert") < 0)
		kom_warne("%s/alert/cur", r.paths.spool);
	for (;;) {
		long long due, now;
		long n;

		if (claim_more(&r) < 0 || (n = send_due(&r)) < 0 ||
		    finish_items(&r) < 0) {
			rc = KOM_EX_IOERR;
			break;
		}
		if (n)
			continue;
		due = next_due(&r);
		if (!due)
			break;
		now = kom_wall_ms();
		if (r.o.once && due > now) {
			rc = KOM_EX_TEMPFAIL;	/* left queued for later */
			break;
		}
		/* wake at least each second to take new arrivals */
		if (due > now)
			sleep_ms(due - now < 1000 ? due - now : 1000);
	}
	free_items(&r);
	spool_names_free(r.names, r.nnames);
	if (rc == KOM_EX_OK && r.failed)
		rc = KOM_EX_NO;
	r.wrc |= jsonl_write_steal(stdout, json_pack("{s:s, s:s, s:{s:I, "
	    "s:I, s:I, s:I, s:I, s:I}}", "kind", "end", "program",
	    "kom-alert", "counts", "sent", (json_int_t)r.sent, "failed",
	    (json_int_t)r.failed, "retry", (json_int_t)r.retried, "skipped",
	    (json_int_t)r.skipped, "suppressed", (json_int_t)r.suppressed,
	    "unconfirmed", (json_int_t)r.unconfirmed));
	vars_free(r.vars);
	json_decref(r.alerters);
	curl_global_cleanup();
out_lock:
	close(lockfd);
out_cfg:
	config_free(&cfg);
	paths_free(&r.paths);
	return kom_close_stdout(r.wrc && !ferror(stdout) ? KOM_EX_IOERR : rc);
}
