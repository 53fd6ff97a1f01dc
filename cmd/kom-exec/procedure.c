/*
 * procedure.c: kom-exec procedure, one run of an applied procedure, and
 * kom-exec timers, the systemd generator's half that turns the applied
 * procedures' schedules into timers.
 *
 *	kom-exec procedure [-s] NAME	kom-plan -p NAME | (this run)
 *	kom-exec timers DIR		DIR/kom-procedure@NAME.timer ...
 *
 * A run plans the procedure from the state dir (kom-plan -p, a child, on
 * an empty resource stream) and applies that plan in this process, under
 * the state dir's lock.  A run whose steps fail queues ProcedureFailed
 * (failure_alert), the next good run its resolve; a run a timer started
 * (-s) queues ScheduleRun first (schedule_alert), as Komodo's scheduler
 * does when it launches a scheduled run.
 *
 * Timers come from a generator (systemd.generator(7)), not from units
 * kom-exec writes when it applies a procedure: they are a function of
 * the applied state, so they never drift from it; a deleted procedure's
 * timer is gone at the next reload; nothing under /etc is written by a
 * program that holds the Docker socket (kom-exec stays confined to the
 * state and spool dirs); a kill mid-apply leaves no half-written unit.
 * kom-procedure.path reloads systemd when the applied procedures change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "file.h"
#include "jsonl.h"
#include "proc.h"
#include "procedure.h"
#include "run.h"
#include "schedule.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/* An empty resource stream: kom-plan -p takes the procedure from state. */
static const char empty_stream[] =
    "{\"kind\":\"end\",\"program\":\"kom-exec\"}\n";

static void
queue(struct exec_ctx *x, json_t *a, const char *name)
{
	if (alert_queue(x->paths.spool, a) < 0)
		kom_warne("%s/alert: alert for procedure '%s' not queued",
		    x->paths.spool, name);
	json_decref(a);
}

/* ProcedureFailed while failing, its resolve after: STATE/procedure_failed/NAME. */
static void
failure_alert(struct exec_ctx *x, const char *name, int failed,
    const char *why)
{
	char *enc = state_name_encode(name);
	char *dir = xasprintf("%s/procedure_failed", x->paths.state);
	char *marker = xasprintf("%s/%s", dir, enc);
	json_t *a;

	if (failed) {
		a = alert_new("WARNING", "Procedure", name, "ProcedureFailed",
		    json_pack("{s:s, s:s, s:s}", "id", name, "name", name,
		    "error", why));
		if (file_mkdir_p(dir, 0755) < 0 ||
		    file_write_atomic(marker, "", 0, 0644) < 0)
			kom_warne("%s", marker);
		queue(x, a, name);
	} else if (access(marker, F_OK) == 0) {
		a = alert_new("OK", "Procedure", name, "ProcedureFailed",
		    json_pack("{s:s, s:s}", "id", name, "name", name));
		alert_set_resolved(a);
		if (unlink(marker) < 0)
			kom_warne("%s", marker);
		queue(x, a, name);
	}
	free(enc);
	free(dir);
	free(marker);
}

int
procedure_run(struct exec_ctx *x, const char *name, int scheduled,
    int nowait)
{
	char *plan = proc_tool("kom-plan");
	char *argv[] = { plan, "-p", (char *)name, "-", NULL };
	const json_t *cfg;
	json_t *rec, *a;
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	int counts[4] = { -1, 0, 0, 0 }, st, rc;
	FILE *fp;

	/* From a timer (-s), a procedure no longer applied or no longer
	 * scheduled is a stale timer that fired before systemd reloaded
	 * (kom-procedures.path): nothing to run, and no failed unit. */
	if (!(rec = state_load(x->paths.state, "procedure", name))) {
		kom_warn("procedure '%s' is not applied (%s)%s", name,
		    x->paths.state, scheduled ? ": its timer is stale, "
		    "nothing to run" : "");
		free(plan);
		return scheduled ? KOM_EX_OK : KOM_EX_DATAERR;
	}
	cfg = json_object_get(rec, "config");
	if (scheduled && json_is_false(json_object_get(cfg,
	    "schedule_enabled"))) {
		kom_warn("procedure '%s': its schedule is not enabled: its "
		    "timer is stale, nothing to run", name);
		json_decref(rec);
		free(plan);
		return KOM_EX_OK;
	}
	if (scheduled && !x->dry_run && !json_is_false(json_object_get(cfg,
	    "schedule_alert"))) {
		/* an event, as Komodo's: every run is sent */
		a = alert_new("OK", "Procedure", name, "ScheduleRun",
		    json_pack("{s:s, s:s, s:s}", "resource_type", "Procedure",
		    "id", name, "name", name));
		json_object_set_new(a, "resolved", json_true());
		json_object_set(a, "resolved_ts", json_object_get(a, "ts"));
		queue(x, a, name);
	}
	buf_adds(&in, empty_stream);
	if ((st = proc_stage(argv, "kom-plan -p", &in, &out, &why)) != 0) {
		rc = st == KOM_EX_DATAERR ? KOM_EX_DATAERR : st == 127 ?
		    KOM_EX_UNAVAILABLE : KOM_EX_SOFTWARE;
	} else if (!(fp = fmemopen(out.s, out.len ? out.len : 1, "r"))) {
		kom_warne("fmemopen");
		buf_adds(&why, "the plan could not be read");
		rc = KOM_EX_SOFTWARE;
	} else {
		rc = apply_stream(x, fp, "kom-plan -p", nowait, counts);
		fclose(fp);
		if (counts[0] < 0 && rc == KOM_EX_NO) {
			/* busy (-b): this run did not happen, nor fail */
			json_decref(rec);
			buf_free(&in);
			buf_free(&out);
			buf_free(&why);
			free(plan);
			return rc;
		}
		if (counts[JOB_FAILED] > 0)
			buf_printf(&why, "%d of its steps failed",
			    counts[JOB_FAILED]);
		else if (rc != 0)
			buf_printf(&why, "the run stopped (exit %d)", rc);
	}
	if (!x->dry_run && !json_is_false(json_object_get(cfg,
	    "failure_alert")))
		failure_alert(x, name, why.len > 0, why.s ? why.s : "");
	json_decref(rec);
	buf_free(&in);
	buf_free(&out);
	buf_free(&why);
	free(plan);
	return rc;
}

/* ---- timers ---- */

/* name as a unit instance, systemd-escape(1)'s way. */
static char *
unit_escape(const char *name)
{
	struct buf b = BUF_INIT;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		if (*p == '/')
			buf_addc(&b, '-');
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == ':' || *p == '_' ||
		    (*p == '.' && p != (const unsigned char *)name))
			buf_addc(&b, *p);
		else
			buf_printf(&b, "\\x%02x", *p);
	}
	return buf_release(&b);
}

/* One procedure's timer in dir; 1 written, 0 none, -1 after a message. */
static int
write_timer(const char *dir, const char *statedir, const json_t *rec)
{
	const char *name = jsonl_str(rec, "name", "");
	const json_t *cfg = json_object_get(rec, "config");
	const char *text = jsonl_str(cfg, "schedule", "");
	const char *tz = jsonl_str(cfg, "schedule_timezone", "");
	struct buf unit = BUF_INIT, cal = BUF_INIT, err = BUF_INIT;
	struct schedule s;
	char *esc, *path = NULL, *wants, *link = NULL, *target = NULL;
	char *src = state_path(statedir, "procedure", name), *l, *nl;
	int rc = 0;

	if (!*text || json_is_false(json_object_get(cfg, "schedule_enabled")))
		goto out;
	if (schedule_parse(jsonl_str(cfg, "schedule_format", "English"), text,
	    &s, &err) < 0 || !schedule_zone_ok(tz)) {
		kom_warn("%s: procedure '%s': %s; no timer", src, name, err.len ?
		    err.s : "schedule_timezone is not a zone of the tz database");
		goto out;
	}
	schedule_calendar(&s, tz, &cal);
	esc = unit_escape(name);
	buf_printf(&unit, "# Written by kom-exec timers (kom-exec(1)) from the "
	    "applied procedure.\n[Unit]\nDescription=kom: procedure %s on its "
	    "schedule\nDocumentation=man:kom-exec(1)\nSourcePath=%s\n\n"
	    "[Timer]\n", esc, src ? src : statedir);
	for (l = cal.s; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		buf_printf(&unit, "OnCalendar=%.*s\n", (int)(nl - l), l);
	}
	buf_adds(&unit, "AccuracySec=1s\n");
	path = xasprintf("%s/kom-procedure@%s.timer", dir, esc);
	wants = xasprintf("%s/timers.target.wants", dir);
	link = xasprintf("%s/kom-procedure@%s.timer", wants, esc);
	target = xasprintf("../kom-procedure@%s.timer", esc);
	if (file_write_atomic(path, unit.s, unit.len, 0644) < 0 ||
	    file_mkdir_p(wants, 0755) < 0 ||
	    ((unlink(link) < 0 && errno != ENOENT) ||
	    symlink(target, link) < 0)) {
		kom_warne("%s", path);
		rc = -1;
	} else {
		rc = 1;
	}
	free(wants);
	free(esc);
out:
	free(path);
	free(link);
	free(target);
	free(src);
	buf_free(&unit);
	buf_free(&cal);
	buf_free(&err);
	return rc;
}

int
timers_run(struct exec_ctx *x, const char *dir)
{
	json_t *recs, *rec;
	size_t i;
	int rc = KOM_EX_OK;

	if (state_load_type(x->paths.state, "procedure", &recs) < 0) {
		kom_warn("%s: the applied procedures cannot be read",
		    x->paths.state);
		return KOM_EX_IOERR;
	}
	json_array_foreach(recs, i, rec) {
		if (write_timer(dir, x->paths.state, rec) < 0)
			rc = KOM_EX_IOERR;
	}
	json_decref(recs);
	return rc;
}
