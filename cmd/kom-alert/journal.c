/*
 * journal.c: what kom-alert remembers between runs, in STATE/alerts.
 *
 *	journal/ID.ALERTER	one delivery: sending, sent, retry, failed
 *	open/KEY.json		one open alert per (target, type[, sub])
 *	lock			one kom-alert at a time
 *	pruned			when the journal was last pruned
 *
 * Every file is replaced atomically (lib/file); journal files are made
 * durable in groups (journal_sync), open alerts one by one.  "sending" is
 * written once
 * the connection is up and before the request goes out: a run that finds
 * it was killed in the middle and does not send again: the request was
 * on its way, so the receiver most likely has it.  The delivery is then
 * "unconfirmed" (at most once, and said so), not retried.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "alertroute.h"
#include "file.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char *const dnames[] = { "new", "sending", "sent", "retry",
    "failed", "skipped", "unconfirmed" };

int
journal_init(const char *statedir)
{
	char *j = xasprintf("%s/alerts/journal", statedir);
	char *o = xasprintf("%s/alerts/open", statedir);
	int rc = 0;

	if (file_mkdir_p(j, 0750) < 0) {
		kom_warne("%s", j);
		rc = -1;
	} else if (file_mkdir_p(o, 0750) < 0) {
		kom_warne("%s", o);
		rc = -1;
	}
	free(j);
	free(o);
	return rc;
}

int
journal_lock(const char *statedir)
{
	char *p = xasprintf("%s/alerts/lock", statedir);
	int fd = file_lock(p, 0);

	free(p);
	return fd;
}

static char *
jpath(const char *statedir, const char *id, const char *alerter)
{
	char *enc = state_name_encode(alerter);
	char *p = xasprintf("%s/alerts/journal/%s.%s", statedir, id, enc);

	free(enc);
	return p;
}

void
journal_get(const char *statedir, const char *id, const char *alerter,
    struct journal_rec *r)
{
	char *p = jpath(statedir, id, alerter);
	struct buf b = BUF_INIT;
	json_t *j;
	const char *s;

	memset(r, 0, sizeof(*r));
	r->state = D_NEW;
	if (file_read(p, &b, 1u << 16) == 0 &&
	    (j = json_loadb(b.s, b.len, 0, NULL))) {
		s = json_string_value(json_object_get(j, "state"));
		for (size_t i = 0; s && i < KOM_NELEM(dnames); i++)
			if (!strcmp(s, dnames[i]))
				r->state = (enum dstate)i;
		r->tries = (long)json_integer_value(json_object_get(j,
		    "tries"));
		r->next_ms = json_integer_value(json_object_get(j, "next"));
		if ((s = json_string_value(json_object_get(j, "reason"))))
			r->reason = xstrdup(s);
		json_decref(j);
	}
	buf_free(&b);
	free(p);
}

int
journal_put(const char *statedir, const char *id, const char *alerter,
    const struct journal_rec *r)
{
	char *p = jpath(statedir, id, alerter);
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "alert", id,
	    "alerter", alerter, "state", dnames[r->state], "tries",
	    (json_int_t)r->tries, "next", (json_int_t)r->next_ms);
	char *s;
	int rc;

	if (r->reason)
		json_object_set_new(j, "reason", json_string(r->reason));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	/* No fsync here: "sending" sits between the connection and the
	 * request and must cost microseconds, or a kill in that gap would
	 * leave a delivery marked that never left; the others are made
	 * durable together by journal_sync() before the spool entry goes. */
	rc = file_replace_nosync(p, s, strlen(s), 0640);
	if (rc < 0)
		kom_warne("%s", p);
	free(s);
	free(p);
	return rc;
}

int
journal_sync(const char *statedir)
{
	char *dir = xasprintf("%s/alerts/journal", statedir);
	int rc = file_fsync_dir(dir);

	if (rc < 0)
		kom_warne("%s", dir);
	free(dir);
	return rc;
}

void
journal_rec_free(struct journal_rec *r)
{
	free(r->reason);
	r->reason = NULL;
}

void
journal_prune(const char *statedir, long long max_age_ms)
{
	char *dir = xasprintf("%s/alerts/journal", statedir);
	char *stamp = xasprintf("%s/alerts/pruned", statedir);
	long long now = kom_wall_ms();
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;

	/* a look at every file costs ms per thousand: once an hour is
	 * enough for files kept a week */
	if (stat(stamp, &st) < 0 || now - (long long)st.st_mtime * 1000 >
	    3600LL * 1000) {
		if (file_write_atomic(stamp, "", 0, 0640) < 0)
			kom_warne("%s", stamp);
		d = opendir(dir);
	}
	free(stamp);

	while (d && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (stat(p, &st) == 0 && now - (long long)st.st_mtime * 1000 >
		    max_age_ms)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}

void
alert_id(const json_t *rec, char out[33])
{
	char *s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	char hex[65];

	if (!s)
		kom_die(KOM_EX_SOFTWARE, "cannot encode an alert record");
	kom_sha256_hex(s, strlen(s), hex);
	memcpy(out, hex, 32);
	out[32] = '\0';
	free(s);
}

/* ---- open alerts ---- */

static char *
opath(const char *statedir, const char *key)
{
	char *enc = state_name_encode(key);
	char *p = xasprintf("%s/alerts/open/%s.json", statedir, enc);

	free(enc);
	return p;
}

static json_t *
open_get(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *j = NULL;

	if (file_read(path, &b, 1u << 20) == 0)
		j = json_loadb(b.s, b.len, 0, NULL);
	buf_free(&b);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

static int
open_put(const char *path, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	int rc = file_write_atomic(path, s, strlen(s), 0640);

	if (rc < 0)
		kom_warne("%s", path);
	free(s);
	json_decref(o);
	return rc;
}

/* The types that report an event, not a condition that stays. */
static int
is_event(const json_t *rec)
{
	const char *t = alertroute_type(rec);

	return !strcmp(t, "Test") || !strcmp(t, "Custom") ||
	    !strcmp(t, "ScheduleRun") ||
	    (json_is_true(json_object_get(rec, "resolved")) &&
	    strcmp(alertroute_level(rec), "OK"));
}

json_t *
open_decide(const char *statedir, const json_t *rec, const char *id,
    long long now_ms, long long repeat_ms, const char **why, int *err)
{
	char *key, *path;
	json_t *cur, *out = NULL;
	const char *cid, *clevel;
	long long opened, sent;
	int closed, resolve;

	*why = NULL;
	*err = 0;
	if (is_event(rec))
		return json_incref((json_t *)rec);
	key = alertroute_key(rec);
	path = opath(statedir, key);
	cur = open_get(path);
	cid = json_string_value(json_object_get(cur, "id"));
	clevel = json_string_value(json_object_get(cur, "level"));
	closed = json_is_true(json_object_get(cur, "closed"));
	opened = json_integer_value(json_object_get(cur, "opened"));
	sent = json_integer_value(json_object_get(cur, "sent"));
	resolve = json_is_true(json_object_get(rec, "resolved"));
	if (resolve && json_is_true(json_object_get(rec, "silent"))) {
		/* its send flag is off: closed, told to nobody (and the
		 * same when a run that closed it stopped before the end) */
		*why = "closed without a message: its send flag is off";
		if (!cid || strcmp(cid, id)) {
			if (!cur || closed)
				*why = "nothing open to resolve";
			else if (open_put(path, json_pack("{s:s, s:s, s:s, "
			    "s:I, s:I, s:b}", "key", key, "id", id, "level",
			    "OK", "opened", (json_int_t)opened, "sent",
			    (json_int_t)sent, "closed", 1)) < 0)
				*err = -1;
		}
	} else if (cid && !strcmp(cid, id)) {
		/* decided by an earlier run that stopped: decide the same */
		if (!resolve)
			out = json_incref((json_t *)rec);
		else
			goto resolved_copy;
	} else if (resolve) {
		if (!cur || closed) {
			*why = "nothing open to resolve";
		} else {
			if (open_put(path, json_pack("{s:s, s:s, s:s, s:I, "
			    "s:I, s:b}", "key", key, "id", id, "level", "OK",
			    "opened", (json_int_t)opened, "sent",
			    (json_int_t)now_ms, "closed", 1)) < 0)
				*err = -1;
			else
				goto resolved_copy;
		}
	} else if (!cur || closed || alertroute_level_rank(
	    alertroute_level(rec)) > alertroute_level_rank(clevel) ||
	    (repeat_ms > 0 && now_ms - sent >= repeat_ms)) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:O}",
		    "key", key, "id", id, "level", alertroute_level(rec),
		    "opened", (json_int_t)(cur && !closed ? opened :
		    json_integer_value(json_object_get(rec, "ts"))),
		    "sent", (json_int_t)now_ms, "closed", 0, "alert", rec);

		if (open_put(path, o) < 0)
			*err = -1;
		else
			out = json_incref((json_t *)rec);
	} else {
		*why = "repeat while open";
	}
	goto done;
resolved_copy:
	/* Komodo's resolve: the alert as opened, level OK, resolved_ts */
	out = json_deep_copy(rec);
	json_object_set_new(out, "level", json_string("OK"));
	json_object_set_new(out, "resolved", json_true());
	if (opened)
		json_object_set_new(out, "ts", json_integer(opened));
	if (!json_is_integer(json_object_get(out, "resolved_ts")))
		json_object_set(out, "resolved_ts", json_object_get(rec,
		    "ts"));
done:
	json_decref(cur);
	free(key);
	free(path);
	return out;
}
