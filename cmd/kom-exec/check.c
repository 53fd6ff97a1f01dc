/*
 * check.c: kom-exec check, one look at this host for a timer.
 *
 * Compares what runs with what was applied and with the last check's
 * view (STATE/check.json, replaced atomically), and this host's CPU,
 * memory and disks with the server's thresholds, and writes alert
 * records into the spool (lib/alert) for kom-alert(1):
 *
 *	ContainerStateChange	a deployment's container is not running
 *				(or unhealthy, or restarted since the last
 *				check), resolved when it runs again
 *	StackStateChange	the same, per service of a stack
 *	ServerUnreachable	the engine does not answer two checks in a row
 *				(each of them exits 75)
 *	ServerCpu/Mem/Disk	Komodo's two-observation open, five-point
 *				close hysteresis (komodo-behaviour 6.2)
 *
 * Inside one of the server's maintenance_windows (the evaluator kom-alert
 * uses for its alerters, lib/alertroute) no server alert opens or
 * escalates, and an observation does not count towards the two; what is
 * open still resolves.  Komodo's rule: container and stack state changes
 * are not the server's and still go out.
 *
 * A condition opens one alert and, when it is over, one resolved record
 * (level OK): a restart loop seen over fifty checks is one alert, since
 * RestartCount and StartedAt tell a container that restarted between two
 * checks even when it happens to run at the moment of the look.  While
 * an apply holds STATE/lock the containers are not looked at (Komodo
 * skips a resource that is deploying); the host is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "alertroute.h"
#include "buf.h"
#include "check.h"
#include "container.h"
#include "docker.h"
#include "file.h"
#include "hoststat.h"
#include "jsonl.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/* Komodo's server config defaults. */
#define DEF_CPU_WARN 90.0
#define DEF_CPU_CRIT 99.0
#define DEF_MEM_WARN 75.0
#define DEF_MEM_CRIT 95.0
#define DEF_DISK_WARN 75.0
#define DEF_DISK_CRIT 95.0
#define CLOSE_MARGIN 5.0	/* ALERT_PERCENTAGE_THRESHOLD */

struct check {
	struct exec_ctx *x;
	json_t *prev;		/* the last check's view */
	json_t *view;		/* this one's */
	json_t *server;		/* the server's config, or NULL */
	const char *sname;	/* this host's name */
	const char *region;	/* the server's region, or NULL */
	int maint;		/* inside one of its maintenance windows */
	int alerts;
	int failed;		/* an alert could not be queued */
};

static void
emit(struct check *c, json_t *a)
{
	if (alert_queue(c->x->paths.spool, a) < 0) {
		kom_warne("%s/alert", c->x->paths.spool);
		c->failed = 1;
	} else {
		c->alerts++;
	}
	json_decref(a);
}

/*
 * A resolve.  With its send flag off Komodo tells nobody; it is queued
 * all the same, marked "silent", so that kom-alert closes the alert it
 * holds open without a message: left open there, it would hold back the
 * next alert of the kind as a repeat once the flag is on again.
 */
static void
emit_resolve(struct check *c, json_t *a, int send)
{
	if (!send)
		json_object_set_new(a, "silent", json_true());
	emit(c, a);
}

static const char *
jstr(const json_t *o, const char *k)
{
	return jsonl_str(o, k, "");
}

/* ---- containers ---- */

/*
 * The state a look at container in (an inspect, or NULL) shows, with
 * prev the last look at it: "running" only when it runs, is not
 * unhealthy and did not restart since (RestartCount grew, or StartedAt
 * moved while the last look saw it run).  Fills now with what the next
 * look compares.
 */
static const char *
look(const json_t *in, const json_t *prev, json_t *now)
{
	const json_t *st = json_object_get(in, "State");
	const char *status = jstr(st, "Status"), *started = jstr(st,
	    "StartedAt"), *health = jstr(json_object_get(st, "Health"),
	    "Status");
	json_int_t restarts = json_integer_value(json_object_get(in,
	    "RestartCount"));
	int same = prev && !strcmp(jstr(prev, "id"), jstr(in, "Id"));

	if (!in)
		return "not_deployed";
	json_object_set_new(now, "id", json_string(jstr(in, "Id")));
	json_object_set_new(now, "restarts", json_integer(restarts));
	json_object_set_new(now, "started", json_string(started));
	if (strcmp(status, "running") != 0)
		return *status ? status : "unknown";
	if (!strcmp(health, "unhealthy"))
		return "unhealthy";
	/* the restart policy counts; a start by hand counts when the
	 * last look saw it run (a restart in between), not after a stop */
	if (same && (restarts > json_integer_value(json_object_get(prev,
	    "restarts")) || (!strcmp(jstr(prev, "state"), "running") &&
	    strcmp(started, jstr(prev, "started")))))
		return "restarting";
	return "running";
}

/*
 * One container's condition: key in the view, state seen; an alert
 * opened when it leaves "running", resolved when it returns.
 */
static void
judge(struct check *c, const char *key, const char *state, json_t *now,
    const char *ttype, const char *name, const char *dtype,
    const char *service, int send)
{
	json_t *prev = json_object_get(json_object_get(c->prev, "containers"),
	    key), *a, *d;
	const char *open = json_string_value(json_object_get(prev, "open"));
	int bad = strcmp(state, "running") != 0;

	json_object_set_new(now, "state", json_string(state));
	if (bad && !open) {
		open = state;
		d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", name, "name",
		    name, "server_name", c->sname, "from", "running", "to",
		    state);
		if (service)
			json_object_set_new(d, "service", json_string(service));
		a = alert_new("WARNING", ttype, name, dtype, d);
		if (send)
			emit(c, a);
		else
			json_decref(a);
	} else if (!bad && open) {
		d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", name, "name",
		    name, "server_name", c->sname, "from", open, "to",
		    state);
		if (service)
			json_object_set_new(d, "service", json_string(service));
		a = alert_new("OK", ttype, name, dtype, d);
		alert_set_resolved(a);
		emit_resolve(c, a, send);
		open = NULL;
	}
	json_object_set_new(now, "open", open ? json_string(open) :
	    json_null());
	json_object_set_new(now, "target", json_string(ttype));
	json_object_set_new(now, "name", json_string(name));
	if (service)
		json_object_set_new(now, "service", json_string(service));
	json_object_set_new(json_object_get(c->view, "containers"), key, now);
}

static json_t *
prev_of(struct check *c, const char *key)
{
	return json_object_get(json_object_get(c->prev, "containers"), key);
}

/* An inspect of id, NULL when there is none; -1 when the engine fails. */
static int
inspect(struct docker *d, const char *id, json_t **in)
{
	struct docker_error e;

	*in = NULL;
	if (docker_container_inspect(d, id, in, &e) == 0)
		return 0;
	if (e.code == DOCKER_ENOTFOUND)
		return 0;
	kom_warn("%s", e.msg);
	return -1;
}

static int
sends(const json_t *res)
{
	json_t *v = json_object_get(json_object_get(res, "config"),
	    "send_alerts");

	return !json_is_false(v);
}

static int
check_deployment(struct check *c, struct docker *d, const char *name,
    const json_t *res)
{
	const char *dn = jstr(json_object_get(res, "exec"), "deployed_name");
	char *cname = *dn ? xstrdup(dn) : container_name(json_object_get(res,
	    "config"), name);
	char *key = xasprintf("deployment/%s", name);
	json_t *in, *now = json_object();
	int r = inspect(d, cname, &in);

	if (r == 0)
		judge(c, key, look(in, prev_of(c, key), now), now,
		    "Deployment", name, "ContainerStateChange", NULL,
		    sends(res));
	else
		json_decref(now);
	json_decref(in);
	free(key);
	free(cname);
	return r;
}

static int
ignored_service(const json_t *res, const char *svc)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(res, "config"),
	    "ignore_services"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), svc))
			return 1;
	return 0;
}

static int
check_stack(struct check *c, struct docker *d, const char *name,
    const json_t *res)
{
	const json_t *ex = json_object_get(res, "exec");
	const char *project = *jstr(ex, "project") ? jstr(ex, "project") :
	    name;
	char *l = xasprintf("com.docker.compose.project=%s", project);
	const char *labels[] = { l, NULL };
	struct docker_error e;
	json_t *list = NULL, *v, *ct;
	size_t i, k;
	int r = 0;

	if (docker_container_list(d, labels, 1, &list, &e) < 0) {
		kom_warn("%s", e.msg);
		free(l);
		return -1;
	}
	json_array_foreach(json_object_get(ex, "services"), i, v) {
		const char *svc = json_string_value(v), *id = NULL;
		char *key;
		json_t *in = NULL, *now;

		if (!svc || ignored_service(res, svc))
			continue;
		json_array_foreach(list, k, ct)
			if (!strcmp(jstr(json_object_get(ct, "Labels"),
			    "com.docker.compose.service"), svc) && (!id ||
			    strcmp(jstr(ct, "State"), "running")))
				id = jstr(ct, "Id");
		if (id && (r = inspect(d, id, &in)) < 0)
			break;
		key = xasprintf("stack/%s/%s", name, svc);
		now = json_object();
		judge(c, key, in ? look(in, prev_of(c, key), now) : "down",
		    now, "Stack", name, "StackStateChange", svc, sends(res));
		json_decref(in);
		free(key);
	}
	json_decref(list);
	free(l);
	return r;
}

/*
 * An open alert of a container the state no longer has (destroyed, or a
 * service gone from its stack): resolved, so that it does not stay open.
 */
static void
vanished(struct check *c)
{
	json_t *pc = json_object_get(c->prev, "containers"), *v, *d, *a;
	const char *key, *open, *ttype, *name, *svc;

	json_object_foreach(pc, key, v) {
		open = json_string_value(json_object_get(v, "open"));
		ttype = jstr(v, "target");
		name = jstr(v, "name");
		svc = json_string_value(json_object_get(v, "service"));
		if (!open || !*name || json_object_get(json_object_get(c->view,
		    "containers"), key))
			continue;
		d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", name, "name",
		    name, "server_name", c->sname, "from", open, "to",
		    !strcmp(ttype, "Stack") ? "down" : "not_deployed");
		if (svc)
			json_object_set_new(d, "service", json_string(svc));
		a = alert_new("OK", ttype, name, !strcmp(ttype, "Stack") ?
		    "StackStateChange" : "ContainerStateChange", d);
		alert_set_resolved(a);
		emit(c, a);
	}
}

/* ---- the host ---- */

static double
num(const json_t *cfg, const char *k, double def)
{
	json_t *v = json_object_get(cfg, k);

	return json_is_number(v) ? json_number_value(v) : def;
}

static int
flag(const json_t *cfg, const char *k)
{
	return !json_is_false(json_object_get(cfg, k));
}

static int
rank(const char *level)
{
	return !level ? 0 : !strcmp(level, "CRITICAL") ? 2 :
	    !strcmp(level, "WARNING") ? 1 : 0;
}

static json_t *
region(const struct check *c)
{
	return c->region && *c->region ? json_string(c->region) :
	    json_null();
}

/*
 * One metric's observation (Komodo's AlertBuffer and open alert): key
 * in the view's "metrics", pct the value, data the alert's data
 * (stolen).  Opens after two bad observations in a row, escalates
 * while open, closes below warn - 5 or when send is off.
 */
static void
metric(struct check *c, const char *key, double pct, double warn,
    double crit, int send, const char *dtype, json_t *data)
{
	json_t *p = json_object_get(json_object_get(c->prev, "metrics"), key);
	const char *open = json_string_value(json_object_get(p, "open"));
	const char *level = pct >= crit ? "CRITICAL" : pct >= warn ?
	    "WARNING" : "OK";
	int pending = json_is_true(json_object_get(p, "pending"));
	json_t *a;

	json_object_set_new(data, "id", json_string(c->sname));
	json_object_set_new(data, "name", json_string(c->sname));
	json_object_set_new(data, "region", region(c));
	if (open && (!send || pct < warn - CLOSE_MARGIN)) {
		a = alert_new("OK", "Server", c->sname, dtype,
		    json_incref(data));
		alert_set_resolved(a);
		emit_resolve(c, a, send);
		open = NULL;
	} else if (open && rank(level) > rank(open) && !c->maint) {
		open = level;
		emit(c, alert_new(level, "Server", c->sname, dtype,
		    json_incref(data)));
	} else if (!open && rank(level) > 0 && send && !c->maint) {
		if (pending) {
			open = level;
			emit(c, alert_new(level, "Server", c->sname, dtype,
			    json_incref(data)));
		}
	}
	/* in a window the count stands still, as Komodo's buffer does */
	if (open || rank(level) == 0)
		pending = 0;
	else if (!c->maint)
		pending = 1;
	json_object_set_new(json_object_get(c->view, "metrics"), key,
	    json_pack("{s:f, s:b, s:o}", "value", pct, "pending", pending,
	    "open", open ? json_string(open) : json_null()));
	json_decref(data);
}

static const char **
ignore_list(const json_t *cfg)
{
	json_t *m = json_object_get(cfg, "ignore_mounts"), *v;
	const char **l = xcalloc(json_array_size(m) + 1, sizeof(*l));
	size_t i, n = 0;

	json_array_foreach(m, i, v)
		if (json_is_string(v))
			l[n++] = json_string_value(v);
	return l;
}

static void
check_host(struct check *c)
{
	const json_t *cfg = c->server;
	struct hoststat_cpu a, b;
	struct hoststat_disk *disks;
	const char **ign;
	double used, total;
	size_t i, n;
	json_t *pc = json_object_get(c->prev, "cpu");

	if (hoststat_cpu_read(NULL, &b) == 0) {
		if (json_is_object(pc)) {
			a.busy = (unsigned long long)json_integer_value(
			    json_object_get(pc, "busy"));
			a.total = (unsigned long long)json_integer_value(
			    json_object_get(pc, "total"));
		}
		if (!json_is_object(pc) || b.total <= a.total) {
			/* no earlier sample: a short one of our own */
			a = b;
			usleep(250 * 1000);
			if (hoststat_cpu_read(NULL, &b) < 0)
				b = a;
		}
		json_object_set_new(c->view, "cpu", json_pack("{s:I, s:I}",
		    "busy", (json_int_t)b.busy, "total", (json_int_t)b.total));
		metric(c, "cpu", hoststat_cpu_percent(&a, &b),
		    num(cfg, "cpu_warning", DEF_CPU_WARN),
		    num(cfg, "cpu_critical", DEF_CPU_CRIT),
		    flag(cfg, "send_cpu_alerts"), "ServerCpu",
		    json_pack("{s:f}", "percentage",
		    hoststat_cpu_percent(&a, &b)));
	} else {
		kom_warne("/proc/stat");
	}
	if (hoststat_mem(NULL, &used, &total) == 0)
		metric(c, "mem", 100.0 * used / total,
		    num(cfg, "mem_warning", DEF_MEM_WARN),
		    num(cfg, "mem_critical", DEF_MEM_CRIT),
		    flag(cfg, "send_mem_alerts"), "ServerMem",
		    json_pack("{s:f, s:f}", "used_gb", used, "total_gb",
		    total));
	else
		kom_warne("/proc/meminfo");
	ign = ignore_list(cfg);
	if (hoststat_disks(NULL, ign, &disks, &n) == 0) {
		for (i = 0; i < n; i++) {
			char *key = xasprintf("disk:%s", disks[i].path);

			metric(c, key, 100.0 * disks[i].used_gb /
			    disks[i].total_gb,
			    num(cfg, "disk_warning", DEF_DISK_WARN),
			    num(cfg, "disk_critical", DEF_DISK_CRIT),
			    flag(cfg, "send_disk_alerts"), "ServerDisk",
			    json_pack("{s:s, s:f, s:f}", "path",
			    disks[i].path, "used_gb", disks[i].used_gb,
			    "total_gb", disks[i].total_gb));
			free(key);
		}
		hoststat_disks_free(disks, n);
	} else {
		kom_warne("/proc/self/mounts");
	}
	free(ign);
	/* A mount gone (or now ignored) closes its open alert. */
	{
		json_t *pm = json_object_get(c->prev, "metrics"), *v;
		const char *k;

		json_object_foreach(pm, k, v) {
			const char *open = json_string_value(json_object_get(v,
			    "open"));
			json_t *al;

			if (strncmp(k, "disk:", 5) || !open ||
			    json_object_get(json_object_get(c->view,
			    "metrics"), k))
				continue;
			al = alert_new("OK", "Server", c->sname, "ServerDisk",
			    json_pack("{s:s, s:s, s:o, s:s}", "id", c->sname,
			    "name", c->sname, "region", region(c), "path",
			    k + 5));
			alert_set_resolved(al);
			emit(c, al);
		}
	}
}

/* ---- the engine ---- */

/*
 * The engine's answer, err NULL when it answered: the view's
 * "unreachable" says an alert is open, "unreachable_pending" that the
 * last check found it away.  Opens on the second look in a row, as
 * metric() does (a restart of the engine between two checks is no
 * alert; in a maintenance window the count stands still), unless the
 * server's send_unreachable_alerts is off; closes when the engine
 * answers, or silently when the flag was turned off (Komodo's rules;
 * emit_resolve()).
 */
static void
unreachable(struct check *c, const char *err)
{
	int was = json_is_true(json_object_get(c->prev, "unreachable"));
	int pending = json_is_true(json_object_get(c->prev,
	    "unreachable_pending"));
	int send = flag(c->server, "send_unreachable_alerts"), open = was;
	json_t *a;

	if (err && !was && send && !c->maint && pending) {
		open = 1;
		emit(c, alert_new("CRITICAL", "Server", c->sname,
		    "ServerUnreachable", json_pack("{s:s, s:s, s:o, s:s}",
		    "id", c->sname, "name", c->sname, "region", region(c),
		    "err", err)));
	} else if (was && (!err || !send)) {
		open = 0;
		a = alert_new("OK", "Server", c->sname, "ServerUnreachable",
		    json_pack("{s:s, s:s, s:o, s:n}", "id", c->sname, "name",
		    c->sname, "region", region(c), "err"));
		alert_set_resolved(a);
		emit_resolve(c, a, send);
	}
	if (open || !err)
		pending = 0;
	else if (!c->maint)
		pending = 1;
	json_object_set_new(c->view, "unreachable", json_boolean(open));
	json_object_set_new(c->view, "unreachable_pending",
	    json_boolean(pending));
}

static json_t *
load_view(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *j = NULL;

	if (file_read(path, &b, STATE_MAX_FILE) == 0)
		j = json_loadb(b.s, b.len, 0, NULL);
	else if (errno != ENOENT)
		kom_warne("%s", path);
	buf_free(&b);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j ? j : json_object();
}

int
check_run(struct exec_ctx *x)
{
	static const char *const types[] = { "deployment", "stack" };
	struct check c;
	struct docker_error e;
	struct docker *d;
	json_t *all = NULL, *bytype, *res;
	char *vpath = xasprintf("%s/check.json", x->paths.state);
	char *lpath = xasprintf("%s/check.lock", x->paths.state);
	const char *name;
	char *s;
	size_t i;
	int lock, apply, rc = KOM_EX_OK;

	memset(&c, 0, sizeof(c));
	c.x = x;
	c.sname = x->server ? x->server : "";
	if (file_mkdir_p(x->paths.state, 0755) < 0 ||
	    (lock = file_lock(lpath, 1)) < 0) {
		kom_warne("%s", lpath);
		free(vpath);
		free(lpath);
		return KOM_EX_IOERR;
	}
	if (state_load_all(x->paths.state, &all) < 0) {
		rc = KOM_EX_IOERR;
		goto out;
	}
	c.prev = load_view(vpath);
	c.view = json_pack("{s:{}, s:{}}", "containers", "metrics");
	c.server = json_object_get(json_object_get(json_object_get(all,
	    "server"), c.sname), "config");
	c.region = json_string_value(json_object_get(c.server, "region"));
	c.maint = alertroute_in_maintenance(json_object_get(c.server,
	    "maintenance_windows"), kom_wall_ms());
	check_host(&c);
	d = docker_open(&e);
	unreachable(&c, d ? NULL : e.msg);
	if (!d) {
		kom_warn("%s", e.msg);
		rc = KOM_EX_TEMPFAIL;
	}
	apply = d ? state_lock(x->paths.state, 0) : -1;
	if (d && apply < 0 && errno != EWOULDBLOCK) {
		kom_warne("%s/lock", x->paths.state);
		rc = KOM_EX_IOERR;
	}
	for (i = 0; i < KOM_NELEM(types) && d && apply >= 0; i++) {
		bytype = json_object_get(all, types[i]);
		json_object_foreach(bytype, name, res)
			if ((i == 0 ? check_deployment(&c, d, name, res) :
			    check_stack(&c, d, name, res)) < 0)
				rc = KOM_EX_TEMPFAIL;
	}
	if (d && apply >= 0 && rc == KOM_EX_OK)
		vanished(&c);
	if (d && apply < 0) {
		/* an apply runs: keep the last view of the containers */
		json_object_set(c.view, "containers", json_object_get(c.prev,
		    "containers") ? json_object_get(c.prev, "containers") :
		    json_object());
	}
	if (!d || rc == KOM_EX_TEMPFAIL) {
		/* unknown is no change: keep what the last check saw */
		json_t *pc = json_object_get(c.prev, "containers"), *v;

		json_object_foreach(pc, name, v)
			if (!json_object_get(json_object_get(c.view,
			    "containers"), name))
				json_object_set(json_object_get(c.view,
				    "containers"), name, v);
	}
	if (apply >= 0)
		close(apply);
	if (d)
		docker_close(d);
	s = json_dumps(c.view, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s || file_write_atomic(vpath, s, strlen(s), 0644) < 0) {
		kom_warne("%s", vpath);
		rc = KOM_EX_IOERR;
	}
	free(s);
	if (c.failed)
		rc = KOM_EX_IOERR;
	jsonl_write_steal(stdout, json_pack("{s:s, s:s, s:s, s:i}", "kind",
	    "end", "program", "kom-exec", "check", rc == KOM_EX_OK ? "ok" :
	    rc == KOM_EX_TEMPFAIL ? "unreachable" : "failed", "alerts",
	    c.alerts));
out:
	json_decref(c.prev);
	json_decref(c.view);
	json_decref(all);
	close(lock);
	free(vpath);
	free(lpath);
	return rc;
}
