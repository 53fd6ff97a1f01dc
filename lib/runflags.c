/*
 * runflags: docker run flags -> create body (runflags.h).
 *
 * One row per flag: most flags put their value, checked by its kind
 * (a size, a duration, a number, a boolean, key=value), at one key of
 * the body, its HostConfig, Healthcheck or LogConfig; the rest have a
 * function.  Lookups walk the table: it is short, and extra_args are few.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "runflags.h"
#include "runval.h"
#include "shellwords.h"
#include "util.h"
#include "banned.h"

/* Short names for the body helpers of runval.h. */
#define errf runval_err
#define obj runval_obj
#define arr runval_arr
#define str runval_str

struct xctx {
	json_t *body;
	json_t *hc;
	json_t *aliases;	/* --network-alias values */
	char *ip;		/* --ip */
	int health_off, health_on;
	char *err;
	size_t errlen;
};

typedef int xfn(struct xctx *, const char *flag, const char *val);

static int
xbad(struct xctx *x, const char *flag, const char *val, const char *what)
{
	return errf(x->err, x->errlen, "extra_args: %s '%s': %s", flag, val,
	    what);
}

static void
append(json_t *o, const char *key, const char *val)
{
	json_array_append_new(arr(o, key), json_string(val));
}

/* ---- the flags a row of the table cannot describe ---- */

static int
x_cpus(struct xctx *x, const char *f, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end != '\0' || !(d > 0) || d > 1e6 ||
	    !isdigit((unsigned char)v[0]))
		return xbad(x, f, v, "bad number of cpus");
	json_object_set_new(x->hc, "NanoCpus",
	    json_integer((json_int_t)llround(d * 1e9)));
	return 0;
}

static int
x_workdir(struct xctx *x, const char *f, const char *v)
{
	if (v[0] != '/')
		return xbad(x, f, v, "the working directory must be absolute");
	json_object_set_new(x->body, "WorkingDir", json_string(v));
	return 0;
}

static int
x_entrypoint(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->body, "Entrypoint", json_pack("[s]", v));
	return 0;
}

static int
x_device(struct xctx *x, const char *f, const char *v)
{
	char *s = xstrdup(v), *p = s, *host, *ctr, *perm;
	int r = 0;

	host = strsep(&p, ":");
	ctr = p ? strsep(&p, ":") : NULL;
	perm = p;
	if (*host != '/' || (ctr && *ctr != '/') || (perm && (*perm == '\0' ||
	    strspn(perm, "rwm") != strlen(perm))))
		r = xbad(x, f, v, "expected /host/path[:/container/path"
		    "[:rwm]]");
	else
		json_array_append_new(arr(x->hc, "Devices"),
		    json_pack("{s:s,s:s,s:s}", "PathOnHost", host,
		    "PathInContainer", ctr ? ctr : host,
		    "CgroupPermissions", perm ? perm : "rwm"));
	free(s);
	return r;
}

static int
x_add_host(struct xctx *x, const char *f, const char *v)
{
	const char *sep = strpbrk(v, ":=");
	char *s;

	if (sep == NULL || sep == v || sep[1] == '\0')
		return xbad(x, f, v, "expected host:ip");
	s = xstrdup(v);
	s[sep - v] = ':';
	append(x->hc, "ExtraHosts", s);
	free(s);
	return 0;
}

static int
x_health_cmd(struct xctx *x, const char *f, const char *v)
{
	x->health_on = 1;
	json_object_set_new(obj(x->body, "Healthcheck"), "Test",
	    json_pack("[s,s]", "CMD-SHELL", v));
	return 0;
}

static int
x_no_healthcheck(struct xctx *x, const char *f, const char *v)
{
	if (strcmp(v, "true") && strcmp(v, "false"))
		return xbad(x, f, v, "expected true or false");
	if (strcmp(v, "true") == 0) {
		x->health_off = 1;
		json_object_set_new(obj(x->body, "Healthcheck"), "Test",
		    json_pack("[s]", "NONE"));
	}
	return 0;
}

/* Accepted and ignored: kom always creates detached containers. */
static int
x_detach(struct xctx *x, const char *f, const char *v)
{
	if (strcmp(v, "true") && strcmp(v, "false"))
		return xbad(x, f, v, "expected true or false");
	return 0;
}

/* Accepted and ignored: kom-exec pulls before every deploy anyway. */
static int
x_pull(struct xctx *x, const char *f, const char *v)
{
	if (strcmp(v, "always") && strcmp(v, "missing") && strcmp(v, "never"))
		return xbad(x, f, v, "expected always, missing or never");
	return 0;
}

static int
x_tmpfs(struct xctx *x, const char *f, const char *v)
{
	const char *c = strchr(v, ':');
	char *path = c ? xstrndup(v, (size_t)(c - v)) : xstrdup(v);
	int r = 0;

	if (path[0] != '/')
		r = xbad(x, f, v, "the path must be absolute");
	else
		json_object_set_new(obj(x->hc, "Tmpfs"), path,
		    json_string(c ? c + 1 : ""));
	free(path);
	return r;
}

static int
x_ulimit(struct xctx *x, const char *f, const char *v)
{
	const char *eq = strchr(v, '=');
	char *name, *lim, *colon;
	long long soft, hard;
	int r = 0;

	if (eq == NULL || eq == v)
		return xbad(x, f, v, "expected name=soft[:hard]");
	name = xstrndup(v, (size_t)(eq - v));
	lim = xstrdup(eq + 1);
	colon = strchr(lim, ':');
	if (colon)
		*colon = '\0';
	if (runval_int(lim, -1, INT64_MAX, &soft) < 0 ||
	    runval_int(colon ? colon + 1 : lim, -1, INT64_MAX, &hard) < 0)
		r = xbad(x, f, v, "expected name=soft[:hard] with numbers");
	else
		json_array_append_new(arr(x->hc, "Ulimits"),
		    json_pack("{s:s,s:I,s:I}", "Name", name, "Soft",
		    (json_int_t)soft, "Hard", (json_int_t)hard));
	free(name);
	free(lim);
	return r;
}

static int
x_label(struct xctx *x, const char *f, const char *v)
{
	const char *eq = strchr(v, '=');
	char *k = eq ? xstrndup(v, (size_t)(eq - v)) : xstrdup(v);
	int r = runval_label_key(k, x->err, x->errlen);

	if (r == 0) {
		char *val = runval_unquote(eq ? eq + 1 : "");

		json_object_set_new(obj(x->body, "Labels"), k,
		    json_string(val));
		free(val);
	} else {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "extra_args: %s: %s", f, x->err);
		snprintf(x->err, x->errlen, "%s", tmp);
	}
	free(k);
	return r;
}

/* The value may be a secret: messages name the variable only. */
static int
x_env(struct xctx *x, const char *f, const char *v)
{
	const char *eq = strchr(v, '=');
	char *name;

	if (eq == NULL) {
		name = xstrdup(v);
		errf(x->err, x->errlen, "extra_args: %s %s: a variable "
		    "without a value would copy kom-exec's own environment; "
		    "write NAME=value", f, name);
		free(name);
		return -1;
	}
	if (eq == v)
		return errf(x->err, x->errlen, "extra_args: %s: empty "
		    "variable name", f);
	append(x->body, "Env", v);
	return 0;
}

static int
x_expose(struct xctx *x, const char *f, const char *v)
{
	char *s = xstrdup(v), *slash = strchr(s, '/');
	const char *proto = "tcp";
	long lo, hi;
	int r = 0;

	if (slash) {
		*slash = '\0';
		proto = slash + 1;
	}
	if (runval_port_range(s, &lo, &hi) < 0 || (strcmp(proto, "tcp") &&
	    strcmp(proto, "udp") && strcmp(proto, "sctp"))) {
		r = xbad(x, f, v, "expected port[-port][/proto]");
	} else {
		for (long p = lo; p <= hi; p++) {
			char key[32];

			snprintf(key, sizeof(key), "%ld/%s", p, proto);
			json_object_set_new(obj(x->body, "ExposedPorts"), key,
			    json_object());
		}
	}
	free(s);
	return r;
}

static int
x_mount(struct xctx *x, const char *f, const char *v)
{
	char *s = xstrdup(v), *p = s, *kv;
	json_t *m = json_object();
	const char *type = "volume";
	int r = -1;

	while ((kv = strsep(&p, ",")) != NULL) {
		char *val = strchr(kv, '=');

		if (val)
			*val++ = '\0';
		if (strcmp(kv, "type") == 0 && val) {
			if (strcmp(val, "bind") && strcmp(val, "volume") &&
			    strcmp(val, "tmpfs")) {
				xbad(x, f, v, "type must be bind, volume or "
				    "tmpfs");
				goto out;
			}
			type = strcmp(val, "bind") == 0 ? "bind" :
			    strcmp(val, "tmpfs") == 0 ? "tmpfs" : "volume";
		} else if ((strcmp(kv, "source") == 0 ||
		    strcmp(kv, "src") == 0) && val) {
			json_object_set_new(m, "Source", json_string(val));
		} else if ((strcmp(kv, "target") == 0 ||
		    strcmp(kv, "dst") == 0 ||
		    strcmp(kv, "destination") == 0) && val) {
			json_object_set_new(m, "Target", json_string(val));
		} else if (strcmp(kv, "readonly") == 0 ||
		    strcmp(kv, "ro") == 0) {
			int ro = val == NULL || strcmp(val, "true") == 0 ||
			    strcmp(val, "1") == 0;

			if (val && !ro && strcmp(val, "false") &&
			    strcmp(val, "0")) {
				xbad(x, f, v, "readonly must be true or "
				    "false");
				goto out;
			}
			json_object_set_new(m, "ReadOnly", json_boolean(ro));
		} else if (strcmp(kv, "bind-propagation") == 0 && val) {
			json_object_set_new(obj(m, "BindOptions"),
			    "Propagation", json_string(val));
		} else if (strcmp(kv, "volume-nocopy") == 0) {
			json_object_set_new(obj(m, "VolumeOptions"), "NoCopy",
			    json_true());
		} else if (strcmp(kv, "tmpfs-size") == 0 && val) {
			int64_t b;

			if (runval_size(val, &b) < 0) {
				xbad(x, f, v, "bad tmpfs-size");
				goto out;
			}
			json_object_set_new(obj(m, "TmpfsOptions"),
			    "SizeBytes", json_integer(b));
		} else if (strcmp(kv, "tmpfs-mode") == 0 && val) {
			char *end;
			long mode = strtol(val, &end, 8);

			if (*val == '\0' || *end != '\0' || mode < 0 ||
			    mode > 07777) {
				xbad(x, f, v, "bad tmpfs-mode");
				goto out;
			}
			json_object_set_new(obj(m, "TmpfsOptions"), "Mode",
			    json_integer(mode));
		} else {
			errf(x->err, x->errlen, "extra_args: %s '%s': unknown "
			    "or incomplete option '%s' (type, source, target, "
			    "readonly, bind-propagation, volume-nocopy, "
			    "tmpfs-size, tmpfs-mode)", f, v, kv);
			goto out;
		}
	}
	json_object_set_new(m, "Type", json_string(type));
	if (*str(m, "Target") != '/') {
		xbad(x, f, v, "needs an absolute target");
		goto out;
	}
	if (strcmp(type, "tmpfs") != 0 && *str(m, "Source") == '\0' &&
	    strcmp(type, "bind") == 0) {
		xbad(x, f, v, "a bind mount needs a source");
		goto out;
	}
	json_array_append(arr(x->hc, "Mounts"), m);
	r = 0;
out:
	json_decref(m);
	free(s);
	return r;
}

static int
x_network_alias(struct xctx *x, const char *f, const char *v)
{
	json_array_append_new(x->aliases, json_string(v));
	return 0;
}

static int
x_ip(struct xctx *x, const char *f, const char *v)
{
	free(x->ip);
	x->ip = xstrdup(v);
	return 0;
}

static int
x_gpus(struct xctx *x, const char *f, const char *v)
{
	if (strcmp(v, "all") != 0)
		return xbad(x, f, v, "only --gpus all is supported");
	json_array_append_new(arr(x->hc, "DeviceRequests"),
	    json_pack("{s:s,s:i,s:[[s]]}", "Driver", "", "Count", -1,
	    "Capabilities", "gpu"));
	return 0;
}

/* ---- the table ---- */

enum xkind {
	XK_STRING,	/* at[key] = the value */
	XK_APPEND,	/* the value appended to the array at[key] */
	XK_BOOL,	/* at[key] = true or false */
	XK_INT,		/* at[key] = an integer in [min, max] */
	XK_SIZE,	/* at[key] = bytes; -1 too when min is -1 */
	XK_DURATION,	/* at[key] = nanoseconds */
	XK_KV,		/* at[key][k] = v, from "k=v" */
	XK_SYNTAX,	/* syntax(body, value): the syntax of a config field */
	XK_FN		/* fn does it */
};

enum xwhere {
	XW_BODY,	/* the body (Config) */
	XW_HOST,	/* HostConfig */
	XW_HEALTH,	/* Healthcheck: marks a --health-* option seen */
	XW_LOG		/* HostConfig.LogConfig */
};

static const struct xflag {
	const char *name;	/* long name without "--" */
	const char *alias;	/* a second long name, or NULL */
	char shrt;		/* short letter or 0 */
	unsigned char boolean;	/* takes no value (=true/false allowed) */
	unsigned char kind;	/* enum xkind */
	unsigned char where;	/* enum xwhere */
	const char *key;
	long long min, max;	/* XK_INT, XK_SIZE */
	xfn *fn;		/* XK_FN */
	int (*syntax)(json_t *, const char *, char *, size_t); /* XK_SYNTAX */
} xflags[] = {
/* S a string, A appended, B a boolean, I an integer, Z a size, D a
   duration, KV key=value, Y runval's syntax, F a function */
#define S(n, c, w, k) { .name = n, .shrt = c, .kind = XK_STRING, \
	.where = w, .key = k }
#define A(n, w, k) { .name = n, .kind = XK_APPEND, .where = w, .key = k }
#define B(n, c, w, k) { .name = n, .shrt = c, .boolean = 1, .kind = XK_BOOL, \
	.where = w, .key = k }
#define I(n, c, w, k, lo, hi) { .name = n, .shrt = c, .kind = XK_INT, \
	.where = w, .key = k, .min = lo, .max = hi }
#define Z(n, c, k, lo) { .name = n, .shrt = c, .kind = XK_SIZE, \
	.where = XW_HOST, .key = k, .min = lo }
#define D(n, k) { .name = n, .kind = XK_DURATION, .where = XW_HEALTH, \
	.key = k }
#define KV(n, w, k) { .name = n, .kind = XK_KV, .where = w, .key = k }
#define Y(n, c, y) { .name = n, .shrt = c, .kind = XK_SYNTAX, .syntax = y }
#define F(n, c, b, f) { .name = n, .shrt = c, .boolean = b, .kind = XK_FN, \
	.fn = f }
	F("add-host", 0, 0, x_add_host),
	A("cap-add", XW_HOST, "CapAdd"),
	A("cap-drop", XW_HOST, "CapDrop"),
	I("cpu-period", 0, XW_HOST, "CpuPeriod", 0, INT64_MAX),
	I("cpu-quota", 0, XW_HOST, "CpuQuota", -1, INT64_MAX),
	I("cpu-shares", 'c', XW_HOST, "CpuShares", 0, INT64_MAX),
	F("cpus", 0, 0, x_cpus),
	S("cpuset-cpus", 0, XW_HOST, "CpusetCpus"),
	S("cpuset-mems", 0, XW_HOST, "CpusetMems"),
	F("detach", 'd', 1, x_detach),
	F("device", 0, 0, x_device),
	A("dns", XW_HOST, "Dns"),
	{ .name = "dns-option", .alias = "dns-opt", .kind = XK_APPEND,
	    .where = XW_HOST, .key = "DnsOptions" },
	A("dns-search", XW_HOST, "DnsSearch"),
	S("domainname", 0, XW_BODY, "Domainname"),
	F("entrypoint", 0, 0, x_entrypoint),
	F("env", 'e', 0, x_env),
	F("expose", 0, 0, x_expose),
	F("gpus", 0, 0, x_gpus),
	A("group-add", XW_HOST, "GroupAdd"),
	F("health-cmd", 0, 0, x_health_cmd),
	D("health-interval", "Interval"),
	I("health-retries", 0, XW_HEALTH, "Retries", 0, INT32_MAX),
	D("health-start-period", "StartPeriod"),
	D("health-timeout", "Timeout"),
	S("hostname", 'h', XW_BODY, "Hostname"),
	B("init", 0, XW_HOST, "Init"),
	B("interactive", 'i', XW_BODY, "OpenStdin"),
	F("ip", 0, 0, x_ip),
	S("ipc", 0, XW_HOST, "IpcMode"),
	F("label", 'l', 0, x_label),
	S("log-driver", 0, XW_LOG, "Type"),
	KV("log-opt", XW_LOG, "Config"),
	Z("memory", 'm', "Memory", 0),
	Z("memory-reservation", 0, "MemoryReservation", 0),
	Z("memory-swap", 0, "MemorySwap", -1),
	F("mount", 0, 0, x_mount),
	{ .name = "network", .alias = "net", .kind = XK_STRING,
	    .where = XW_HOST, .key = "NetworkMode" },
	F("network-alias", 0, 0, x_network_alias),
	F("no-healthcheck", 0, 1, x_no_healthcheck),
	B("oom-kill-disable", 0, XW_HOST, "OomKillDisable"),
	I("oom-score-adj", 0, XW_HOST, "OomScoreAdj", -1000, 1000),
	S("pid", 0, XW_HOST, "PidMode"),
	I("pids-limit", 0, XW_HOST, "PidsLimit", -1, INT64_MAX),
	B("privileged", 0, XW_HOST, "Privileged"),
	Y("publish", 'p', runval_port),
	B("publish-all", 'P', XW_HOST, "PublishAllPorts"),
	F("pull", 0, 0, x_pull),
	B("read-only", 0, XW_HOST, "ReadonlyRootfs"),
	Y("restart", 0, runval_restart),
	A("security-opt", XW_HOST, "SecurityOpt"),
	Z("shm-size", 0, "ShmSize", 0),
	S("stop-signal", 0, XW_BODY, "StopSignal"),
	I("stop-timeout", 0, XW_BODY, "StopTimeout", -1, INT32_MAX),
	KV("sysctl", XW_HOST, "Sysctls"),
	F("tmpfs", 0, 0, x_tmpfs),
	B("tty", 't', XW_BODY, "Tty"),
	F("ulimit", 0, 0, x_ulimit),
	S("user", 'u', XW_BODY, "User"),
	S("userns", 0, XW_HOST, "UsernsMode"),
	S("uts", 0, XW_HOST, "UTSMode"),
	Y("volume", 'v', runval_volume),
	F("workdir", 'w', 0, x_workdir),
#undef S
#undef A
#undef B
#undef I
#undef Z
#undef D
#undef KV
#undef Y
#undef F
};

/* The value of a table flag of any kind but XK_FN, checked, at its key. */
static int
x_value(struct xctx *x, const struct xflag *fl, const char *f, const char *v)
{
	json_t *at = fl->where == XW_HOST ? x->hc :
	    fl->where == XW_BODY ? x->body : NULL;
	long long n;
	int64_t b;

	if (fl->where == XW_HEALTH) {
		x->health_on = 1;
		at = obj(x->body, "Healthcheck");
	} else if (fl->where == XW_LOG) {
		at = obj(x->hc, "LogConfig");
	}
	switch (fl->kind) {
	case XK_STRING:
		json_object_set_new(at, fl->key, json_string(v));
		return 0;
	case XK_APPEND:
		append(at, fl->key, v);
		return 0;
	case XK_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return xbad(x, f, v, "expected true or false");
		json_object_set_new(at, fl->key,
		    json_boolean(strcmp(v, "true") == 0));
		return 0;
	case XK_INT:
		if (runval_int(v, fl->min, fl->max, &n) < 0)
			return xbad(x, f, v, "bad number");
		json_object_set_new(at, fl->key, json_integer(n));
		return 0;
	case XK_SIZE:
		if (fl->min == -1 && strcmp(v, "-1") == 0)
			b = -1;
		else if (runval_size(v, &b) < 0)
			return xbad(x, f, v, "bad size (e.g. 512m, 1g)");
		json_object_set_new(at, fl->key, json_integer(b));
		return 0;
	case XK_DURATION:
		if (runval_duration(v, &b) < 0)
			return xbad(x, f, v, "bad duration (e.g. 30s, 1m30s, "
			    "500ms)");
		json_object_set_new(at, fl->key, json_integer(b));
		return 0;
	case XK_KV: {
		const char *eq = strchr(v, '=');
		char *k;

		if (eq == NULL)
			return xbad(x, f, v, "expected key=value");
		k = xstrndup(v, (size_t)(eq - v));
		if (*k == '\0') {
			free(k);
			return xbad(x, f, v, "empty key");
		}
		json_object_set_new(obj(at, fl->key), k, json_string(eq + 1));
		free(k);
		return 0;
	}
	case XK_SYNTAX: {
		char tmp[400];

		if (fl->syntax(x->body, v, tmp, sizeof(tmp)) < 0)
			return errf(x->err, x->errlen, "extra_args: %s: %s",
			    f, tmp);
		return 0;
	}
	default:
		return fl->fn(x, f, v);
	}
}

int
runflags_flag(size_t i, struct runflag_name *out)
{
	if (i >= KOM_NELEM(xflags))
		return -1;
	out->name = xflags[i].name;
	out->alias = xflags[i].alias;
	out->shrt = xflags[i].shrt;
	out->boolean = xflags[i].boolean;
	return 0;
}

void
runflags_supported(struct buf *b)
{
	for (size_t i = 0; i < KOM_NELEM(xflags); i++) {
		buf_printf(b, "%s--%s", i ? " " : "", xflags[i].name);
		if (xflags[i].alias != NULL)
			buf_printf(b, "/--%s", xflags[i].alias);
		if (xflags[i].shrt != 0)
			buf_printf(b, "/-%c", xflags[i].shrt);
	}
}

/* Flags that look like docker run's but that kom refuses on purpose. */
static const struct {
	const char *name;
	const char *why;
} xrefused[] = {
	{ "name", "the container name comes from the deployment "
	    "(custom_name or its name)" },
	{ "rm", "kom keeps the containers it deploys" },
	{ "platform", "the engine picks the platform of the pulled image" },
	{ "env-file", "files are not read at deploy time: use environment" },
	{ "label-file", "files are not read at deploy time: use labels" },
};

static int
is_name(const char *n, const char *name, size_t len)
{
	return n != NULL && strlen(n) == len && strncmp(n, name, len) == 0;
}

static const struct xflag *
find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < KOM_NELEM(xflags); i++)
		if (is_name(xflags[i].name, name, len) ||
		    is_name(xflags[i].alias, name, len))
			return &xflags[i];
	return NULL;
}

static const struct xflag *
find_short(char c)
{
	for (size_t i = 0; i < KOM_NELEM(xflags); i++)
		if (xflags[i].shrt == c)
			return &xflags[i];
	return NULL;
}

/* "extra_args: unsupported flag 'what' (supported: ...)" into err. */
static int
unsupported(char *err, size_t errlen, const char *what)
{
	struct buf b = BUF_INIT;

	runflags_supported(&b);
	errf(err, errlen, "extra_args: unsupported flag %s (supported: %s)",
	    what, b.s);
	buf_free(&b);
	return -1;
}

static int
unknown_flag(struct xctx *x, const char *tok, size_t len)
{
	char *what;

	for (size_t i = 0; i < KOM_NELEM(xrefused); i++)
		if (len == strlen(xrefused[i].name) + 2 &&
		    strncmp(tok + 2, xrefused[i].name, len - 2) == 0)
			return errf(x->err, x->errlen, "extra_args: --%s is "
			    "not supported: %s", xrefused[i].name,
			    xrefused[i].why);
	what = xasprintf("'%.*s'", (int)len, tok);
	unsupported(x->err, x->errlen, what);
	free(what);
	return -1;
}

static int
run_flag(struct xctx *x, const struct xflag *fl, const char *shown,
    const char *val, char **tok, size_t n, size_t *i)
{
	if (fl->boolean)
		return x_value(x, fl, shown, val ? val : "true");
	if (val == NULL) {
		if (*i + 1 >= n)
			return errf(x->err, x->errlen, "extra_args: %s needs "
			    "a value", shown);
		val = tok[++*i];
	}
	return x_value(x, fl, shown, val);
}

/* tok is a flag that takes its value from the next word. */
static int
wants_value(const char *tok)
{
	const struct xflag *fl;

	if (strncmp(tok, "--", 2) == 0) {
		if (strchr(tok, '=') != NULL)
			return 0;
		fl = find_long(tok + 2, strlen(tok + 2));
		return fl != NULL && !fl->boolean;
	}
	if (tok[0] != '-' || tok[1] == '\0')
		return 0;
	for (const char *c = tok + 1; *c; c++) {
		fl = find_short(*c);
		if (fl == NULL)
			return 0;
		if (!fl->boolean)
			return c[1] == '\0';
	}
	return 0;
}

int
runflags_apply(json_t *body, const char *const *args, size_t n, char *err,
    size_t errlen)
{
	struct xctx x = { body, obj(body, "HostConfig"), json_array(), NULL,
	    0, 0, err, errlen };
	char **tok = NULL;
	size_t ntok = 0, cap = 0, i;
	int r = -1, verbatim = 0;

	for (i = 0; i < n; i++) {
		char **w, tmp[200];
		size_t nw;

		/* the value of a flag that ended the previous entry */
		if (ntok > 0 && !verbatim && wants_value(tok[ntok - 1])) {
			KOM_GROW(tok, st_add(ntok, 1), cap);
			tok[ntok++] = xstrdup(args[i]);
			verbatim = 1;
			continue;
		}
		verbatim = 0;
		if (shellwords_split(args[i], &w, &nw, tmp, sizeof(tmp)) < 0) {
			errf(err, errlen, "extra_args[%zu]: %s", i, tmp);
			goto out;
		}
		KOM_GROW(tok, st_add(ntok, nw + 1), cap);
		for (size_t j = 0; j < nw; j++)
			tok[ntok++] = w[j];
		free(w);
	}
	for (i = 0; i < ntok; i++) {
		const char *t = tok[i];

		if (strncmp(t, "--", 2) == 0 && t[2] != '\0') {
			const char *eq = strchr(t, '=');
			size_t len = eq ? (size_t)(eq - t) : strlen(t);
			const struct xflag *fl = find_long(t + 2, len - 2);
			char shown[64];

			if (fl == NULL) {
				unknown_flag(&x, t, len);
				goto out;
			}
			/* the name as written: --net, --dns-opt */
			snprintf(shown, sizeof(shown), "--%.*s", (int)len - 2,
			    t + 2);
			if (run_flag(&x, fl, shown, eq ? eq + 1 : NULL, tok,
			    ntok, &i) < 0)
				goto out;
		} else if (t[0] == '-' && t[1] != '\0' && t[1] != '-') {
			/* -m512m, -m=512m, -m 512m, -it */
			for (const char *c = t + 1; *c; c++) {
				const struct xflag *fl = find_short(*c);
				char shown[8];
				const char *val = NULL;

				if (fl == NULL) {
					char *what = xasprintf("'-%c' in '%s'",
					    *c, t);

					unsupported(err, errlen, what);
					free(what);
					goto out;
				}
				snprintf(shown, sizeof(shown), "-%c", *c);
				if (!fl->boolean && c[1] != '\0')
					val = c[1] == '=' ? c + 2 : c + 1;
				else if (fl->boolean && c[1] == '=')
					val = c + 2;
				if (run_flag(&x, fl, shown, val, tok, ntok,
				    &i) < 0)
					goto out;
				if (val != NULL)
					break;
			}
		} else {
			errf(err, errlen, "extra_args: '%s' is not a flag "
			    "(the image and command come from image and "
			    "command)", t);
			goto out;
		}
	}
	if (x.health_off && x.health_on) {
		errf(err, errlen, "extra_args: --no-healthcheck conflicts "
		    "with the --health-* options");
		goto out;
	}
	if (json_array_size(x.aliases) > 0 || x.ip != NULL) {
		const char *net = str(x.hc, "NetworkMode");
		json_t *ep;

		if (*net == '\0' || strcmp(net, "host") == 0 ||
		    strcmp(net, "none") == 0 || strcmp(net, "bridge") == 0 ||
		    strcmp(net, "default") == 0) {
			errf(err, errlen, "extra_args: --network-alias and "
			    "--ip need a user-defined network, not '%s'",
			    *net ? net : "host");
			goto out;
		}
		ep = obj(obj(obj(body, "NetworkingConfig"), "EndpointsConfig"),
		    net);
		if (json_array_size(x.aliases) > 0)
			json_object_set(ep, "Aliases", x.aliases);
		if (x.ip != NULL)
			json_object_set_new(obj(ep, "IPAMConfig"),
			    "IPv4Address", json_string(x.ip));
	}
	r = 0;
out:
	for (i = 0; i < ntok; i++)
		free(tok[i]);
	free(tok);
	free(x.ip);
	json_decref(x.aliases);
	return r;
}

