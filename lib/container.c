/*
 * container: deployment config -> ContainerCreate body, hash and drift
 * (container.h).
 *
 * The body is the Engine API's create request: Config fields at the top
 * level, HostConfig and NetworkingConfig inside.  Komodo builds a
 * `docker run` line instead; the flags users put in extra_args are
 * translated here the way the docker CLI translates them.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "container.h"
#include "jsonl.h"
#include "shellwords.h"
#include "util.h"
#include "banned.h"

const char container_extra_args_supported[] =
    "--add-host --cap-add --cap-drop --cpu-period --cpu-quota "
    "--cpu-shares/-c --cpus --cpuset-cpus --cpuset-mems --detach/-d "
    "--device --dns --dns-option --dns-search --domainname --entrypoint "
    "--env/-e --expose --gpus --group-add --health-cmd --health-interval "
    "--health-retries --health-start-period --health-timeout "
    "--hostname/-h --init --interactive/-i --ip --ipc --label/-l "
    "--log-driver --log-opt --memory/-m --memory-reservation --memory-swap "
    "--mount --network/--net --network-alias --no-healthcheck "
    "--oom-kill-disable --oom-score-adj --pid --pids-limit --privileged "
    "--publish/-p --publish-all/-P --pull --read-only --restart "
    "--security-opt --shm-size --stop-signal --stop-timeout --sysctl "
    "--tmpfs --tty/-t --ulimit --user/-u --userns --uts --volume/-v "
    "--workdir/-w";

static int
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- small JSON helpers ---- */

static json_t *
obj(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

static json_t *
arr(json_t *parent, const char *key)
{
	json_t *a = json_object_get(parent, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(parent, key, a);
	}
	return a;
}

static const char *
str(const json_t *o, const char *key)
{
	return jsonl_str(o, key, "");
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- sizes and durations ---- */

int
container_parse_size(const char *s, int64_t *bytes)
{
	char *end;
	double v, mul = 1;
	char u;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	for (const char *q = s; q < end; q++)
		if (!isdigit((unsigned char)*q) && *q != '.')
			return -1;
	u = (char)tolower((unsigned char)*end);
	switch (u) {
	case '\0': break;
	case 'b': break;
	case 'k': mul = 1024.0; break;
	case 'm': mul = 1024.0 * 1024; break;
	case 'g': mul = 1024.0 * 1024 * 1024; break;
	case 't': mul = 1024.0 * 1024 * 1024 * 1024; break;
	case 'p': mul = 1024.0 * 1024 * 1024 * 1024 * 1024; break;
	default: return -1;
	}
	if (u != '\0') {
		end++;
		if (u != 'b') {
			if (tolower((unsigned char)*end) == 'i' &&
			    tolower((unsigned char)end[1]) == 'b')
				end += 2;
			else if (tolower((unsigned char)*end) == 'b')
				end++;
		}
	}
	if (*end != '\0')
		return -1;
	v *= mul;
	if (!(v >= 0) || v >= 9.2e18)
		return -1;
	*bytes = (int64_t)v;
	return 0;
}

int
container_parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		double ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;
	const char *p = s;

	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		char *end;
		double v;
		size_t i, best = KOM_NELEM(units), blen = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p)
			return -1;
		/* strtod would read exponents and hex; Go does not. */
		for (const char *q = p; q < end; q++)
			if (!isdigit((unsigned char)*q) && *q != '.')
				return -1;
		p = end;
		for (i = 0; i < KOM_NELEM(units); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(p, units[i].u, l) == 0 && l > blen) {
				best = i;
				blen = l;
			}
		}
		if (best == KOM_NELEM(units))
			return -1;
		p += blen;
		total += v * units[best].ns;
	}
	if (!(total >= 0) || total >= 9.2e18)
		return -1;
	*ns = (int64_t)llround(total);
	return 0;
}

/* ---- ports and volumes (docker run -p / -v syntax) ---- */

static int
parse_port_range(const char *s, long *lo, long *hi)
{
	long long a, b;
	const char *dash = strchr(s, '-');

	if (dash == NULL) {
		if (!all_digits(s) || parse_int(s, 1, 65535, &a) < 0)
			return -1;
		*lo = *hi = (long)a;
		return 0;
	}
	{
		char *first = xstrndup(s, (size_t)(dash - s));
		int r = all_digits(first) && all_digits(dash + 1) &&
		    parse_int(first, 1, 65535, &a) == 0 &&
		    parse_int(dash + 1, 1, 65535, &b) == 0 && a <= b;

		free(first);
		if (!r)
			return -1;
	}
	*lo = (long)a;
	*hi = (long)b;
	return 0;
}

/*
 * "[ip:][hostport:]containerport[/proto]" into PortBindings and
 * ExposedPorts.  IPv6 addresses go in brackets: "[::1]:8080:80".
 */
static int
add_port(json_t *body, const char *spec, char *err, size_t errlen)
{
	char *s = xstrdup(spec), *proto = "tcp", *slash, *cport, *hport = "",
	    *ip = "", *colon;
	long clo, chi, hlo = 0, hhi = 0;
	json_t *hc = obj(body, "HostConfig");
	int r = -1;

	slash = strrchr(s, '/');
	if (slash != NULL) {
		*slash = '\0';
		proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
		    strcmp(proto, "sctp")) {
			errf(err, errlen, "port '%s': unknown protocol '%s' "
			    "(tcp, udp, sctp)", spec, proto);
			goto out;
		}
	}
	colon = strrchr(s, ':');
	if (colon == NULL) {
		cport = s;
	} else {
		*colon = '\0';
		cport = colon + 1;
		hport = s;
		colon = strrchr(s, ':');
		if (colon != NULL) {
			*colon = '\0';
			ip = s;
			hport = colon + 1;
			if (ip[0] == '[') {
				size_t l = strlen(ip);

				if (l < 2 || ip[l - 1] != ']') {
					errf(err, errlen, "port '%s': bad "
					    "address", spec);
					goto out;
				}
				ip[l - 1] = '\0';
				ip++;
			}
		}
	}
	if (parse_port_range(cport, &clo, &chi) < 0) {
		errf(err, errlen, "port '%s': bad container port '%s'", spec,
		    cport);
		goto out;
	}
	if (*hport != '\0') {
		if (parse_port_range(hport, &hlo, &hhi) < 0) {
			errf(err, errlen, "port '%s': bad host port '%s'",
			    spec, hport);
			goto out;
		}
		if (clo != chi && hhi - hlo != chi - clo) {
			errf(err, errlen, "port '%s': host and container "
			    "ranges differ in length", spec);
			goto out;
		}
	}
	for (long p = clo; p <= chi; p++) {
		char key[32], hp[32];
		json_t *b;

		snprintf(key, sizeof(key), "%ld/%s", p, proto);
		if (*hport == '\0')
			hp[0] = '\0';
		else if (clo != chi)
			snprintf(hp, sizeof(hp), "%ld", hlo + (p - clo));
		else if (hlo != hhi)
			snprintf(hp, sizeof(hp), "%ld-%ld", hlo, hhi);
		else
			snprintf(hp, sizeof(hp), "%ld", hlo);
		json_object_set_new(obj(body, "ExposedPorts"), key,
		    json_object());
		b = json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", hp);
		json_array_append_new(arr(obj(hc, "PortBindings"), key), b);
	}
	r = 0;
out:
	free(s);
	return r;
}

static int
valid_bind_opt(const char *o)
{
	static const char *const ok[] = {
		"ro", "rw", "z", "Z", "nocopy", "consistent", "cached",
		"delegated", "shared", "rshared", "slave", "rslave",
		"private", "rprivate",
	};

	for (size_t i = 0; i < KOM_NELEM(ok); i++)
		if (strcmp(o, ok[i]) == 0)
			return 1;
	return 0;
}

/*
 * "/host:/ctr[:opts]" or "name:/ctr[:opts]" -> Binds; "/ctr" alone ->
 * an anonymous volume (Volumes).
 */
static int
add_volume(json_t *body, const char *spec, char *err, size_t errlen)
{
	char *s = xstrdup(spec), *src, *dst, *opts = NULL, *c;
	int r = -1;

	c = strchr(s, ':');
	if (c == NULL) {
		if (s[0] != '/') {
			errf(err, errlen, "volume '%s': the container path "
			    "must be absolute", spec);
			goto out;
		}
		json_object_set_new(obj(body, "Volumes"), s, json_object());
		r = 0;
		goto out;
	}
	*c = '\0';
	src = s;
	dst = c + 1;
	c = strchr(dst, ':');
	if (c != NULL) {
		char *o, *p;

		*c = '\0';
		opts = c + 1;
		p = xstrdup(opts);
		for (char *q = p; (o = strsep(&q, ",")) != NULL;)
			if (!valid_bind_opt(o)) {
				errf(err, errlen, "volume '%s': unknown option "
				    "'%s'", spec, o);
				free(p);
				goto out;
			}
		free(p);
	}
	if (*src == '\0') {
		errf(err, errlen, "volume '%s': empty host path or volume "
		    "name", spec);
		goto out;
	}
	if (dst[0] != '/') {
		errf(err, errlen, "volume '%s': the container path must be "
		    "absolute", spec);
		goto out;
	}
	if (src[0] == '.' || src[0] == '~') {
		errf(err, errlen, "volume '%s': a host path must be absolute",
		    spec);
		goto out;
	}
	if (src[0] != '/') {
		for (c = src; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("_.-", *c)) {
				errf(err, errlen, "volume '%s': '%s' is "
				    "neither an absolute path nor a volume "
				    "name", spec, src);
				goto out;
			}
	}
	json_array_append_new(arr(obj(body, "HostConfig"), "Binds"),
	    json_string(spec));
	r = 0;
out:
	free(s);
	return r;
}

/* "local:container", or the one that is not empty. */
static char *
join_pair(const json_t *e)
{
	const char *l = str(e, "local"), *c = str(e, "container");

	if (*l == '\0')
		return xstrdup(c);
	if (*c == '\0')
		return xstrdup(l);
	return xasprintf("%s:%s", l, c);
}

/* A value wrapped in one matching pair of quotes loses the pair. */
static char *
unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		return xstrndup(v + 1, n - 2);
	return xstrdup(v);
}

static int
restart_policy(json_t *body, const char *v, char *err, size_t errlen)
{
	json_t *rp;
	long long n = 0;

	if (strcmp(v, "no") == 0 || *v == '\0' || strcmp(v, "always") == 0 ||
	    strcmp(v, "unless-stopped") == 0) {
		rp = json_pack("{s:s,s:i}", "Name", *v ? v : "no",
		    "MaximumRetryCount", 0);
	} else if (strncmp(v, "on-failure", 10) == 0 &&
	    (v[10] == '\0' || v[10] == ':')) {
		n = 10;
		if (v[10] == ':' && parse_int(v + 11, 0, INT32_MAX, &n) < 0)
			return errf(err, errlen, "restart '%s': bad retry "
			    "count", v);
		rp = json_pack("{s:s,s:I}", "Name", "on-failure",
		    "MaximumRetryCount", (json_int_t)n);
	} else {
		return errf(err, errlen, "restart '%s': expected no, "
		    "on-failure, always or unless-stopped", v);
	}
	json_object_set_new(obj(body, "HostConfig"), "RestartPolicy", rp);
	return 0;
}

static int
check_label_key(const char *k, char *err, size_t errlen)
{
	if (*k == '\0')
		return errf(err, errlen, "label with an empty key");
	if (strncmp(k, "kom.", 4) == 0)
		return errf(err, errlen, "label '%s': the kom. prefix is "
		    "reserved for kom's own labels", k);
	return 0;
}

/* ---- extra_args ---- */

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

static int
x_size(struct xctx *x, const char *flag, const char *val, json_t *o,
    const char *key, int allow_minus1)
{
	int64_t b;

	if (allow_minus1 && strcmp(val, "-1") == 0)
		b = -1;
	else if (container_parse_size(val, &b) < 0)
		return xbad(x, flag, val, "bad size (e.g. 512m, 1g)");
	json_object_set_new(o, key, json_integer(b));
	return 0;
}

static int
x_int(struct xctx *x, const char *flag, const char *val, json_t *o,
    const char *key, long long min, long long max)
{
	long long v;

	if (parse_int(val, min, max, &v) < 0)
		return xbad(x, flag, val, "bad number");
	json_object_set_new(o, key, json_integer(v));
	return 0;
}

static int
x_dur(struct xctx *x, const char *flag, const char *val, const char *key)
{
	int64_t ns;

	if (container_parse_duration(val, &ns) < 0)
		return xbad(x, flag, val, "bad duration (e.g. 30s, 1m30s, "
		    "500ms)");
	x->health_on = 1;
	json_object_set_new(obj(x->body, "Healthcheck"), key,
	    json_integer(ns));
	return 0;
}

static int
x_bool(struct xctx *x, const char *flag, const char *val, json_t *o,
    const char *key)
{
	if (strcmp(val, "true") && strcmp(val, "false"))
		return xbad(x, flag, val, "expected true or false");
	json_object_set_new(o, key, json_boolean(strcmp(val, "true") == 0));
	return 0;
}

static void
append(json_t *o, const char *key, const char *val)
{
	json_array_append_new(arr(o, key), json_string(val));
}

/* "k=v" into object o[key][k] = v; k alone: v = "". */
static int
x_kv(struct xctx *x, const char *flag, const char *val, json_t *o,
    const char *key, int need_value)
{
	const char *eq = strchr(val, '=');
	char *k;

	if (eq == NULL && need_value)
		return xbad(x, flag, val, "expected key=value");
	k = eq ? xstrndup(val, (size_t)(eq - val)) : xstrdup(val);
	if (*k == '\0') {
		free(k);
		return xbad(x, flag, val, "empty key");
	}
	json_object_set_new(obj(o, key), k, json_string(eq ? eq + 1 : ""));
	free(k);
	return 0;
}

static int
x_memory(struct xctx *x, const char *f, const char *v)
{
	return x_size(x, f, v, x->hc, "Memory", 0);
}

static int
x_memory_reservation(struct xctx *x, const char *f, const char *v)
{
	return x_size(x, f, v, x->hc, "MemoryReservation", 0);
}

static int
x_memory_swap(struct xctx *x, const char *f, const char *v)
{
	return x_size(x, f, v, x->hc, "MemorySwap", 1);
}

static int
x_shm_size(struct xctx *x, const char *f, const char *v)
{
	return x_size(x, f, v, x->hc, "ShmSize", 0);
}

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
x_cpu_shares(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->hc, "CpuShares", 0, INT64_MAX);
}

static int
x_cpu_period(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->hc, "CpuPeriod", 0, INT64_MAX);
}

static int
x_cpu_quota(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->hc, "CpuQuota", -1, INT64_MAX);
}

static int
x_cpuset_cpus(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "CpusetCpus", json_string(v));
	return 0;
}

static int
x_cpuset_mems(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "CpusetMems", json_string(v));
	return 0;
}

static int
x_pids_limit(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->hc, "PidsLimit", -1, INT64_MAX);
}

static int
x_oom_score_adj(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->hc, "OomScoreAdj", -1000, 1000);
}

static int
x_oom_kill_disable(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->hc, "OomKillDisable");
}

static int
x_user(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->body, "User", json_string(v));
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
x_hostname(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->body, "Hostname", json_string(v));
	return 0;
}

static int
x_domainname(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->body, "Domainname", json_string(v));
	return 0;
}

static int
x_cap_add(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "CapAdd", v);
	return 0;
}

static int
x_cap_drop(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "CapDrop", v);
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
x_dns(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "Dns", v);
	return 0;
}

static int
x_dns_search(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "DnsSearch", v);
	return 0;
}

static int
x_dns_option(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "DnsOptions", v);
	return 0;
}

static int
x_log_driver(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(obj(x->hc, "LogConfig"), "Type", json_string(v));
	return 0;
}

static int
x_log_opt(struct xctx *x, const char *f, const char *v)
{
	return x_kv(x, f, v, obj(x->hc, "LogConfig"), "Config", 1);
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
x_health_interval(struct xctx *x, const char *f, const char *v)
{
	return x_dur(x, f, v, "Interval");
}

static int
x_health_timeout(struct xctx *x, const char *f, const char *v)
{
	return x_dur(x, f, v, "Timeout");
}

static int
x_health_start_period(struct xctx *x, const char *f, const char *v)
{
	return x_dur(x, f, v, "StartPeriod");
}

static int
x_health_retries(struct xctx *x, const char *f, const char *v)
{
	x->health_on = 1;
	return x_int(x, f, v, obj(x->body, "Healthcheck"), "Retries", 0,
	    INT32_MAX);
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

static int
x_init(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->hc, "Init");
}

static int
x_read_only(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->hc, "ReadonlyRootfs");
}

static int
x_privileged(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->hc, "Privileged");
}

static int
x_publish_all(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->hc, "PublishAllPorts");
}

static int
x_tty(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->body, "Tty");
}

static int
x_interactive(struct xctx *x, const char *f, const char *v)
{
	return x_bool(x, f, v, x->body, "OpenStdin");
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
	if (parse_int(lim, -1, INT64_MAX, &soft) < 0 ||
	    parse_int(colon ? colon + 1 : lim, -1, INT64_MAX, &hard) < 0)
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
x_security_opt(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "SecurityOpt", v);
	return 0;
}

static int
x_sysctl(struct xctx *x, const char *f, const char *v)
{
	return x_kv(x, f, v, x->hc, "Sysctls", 1);
}

static int
x_stop_signal(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->body, "StopSignal", json_string(v));
	return 0;
}

static int
x_stop_timeout(struct xctx *x, const char *f, const char *v)
{
	return x_int(x, f, v, x->body, "StopTimeout", -1, INT32_MAX);
}

static int
x_label(struct xctx *x, const char *f, const char *v)
{
	const char *eq = strchr(v, '=');
	char *k = eq ? xstrndup(v, (size_t)(eq - v)) : xstrdup(v);
	int r = check_label_key(k, x->err, x->errlen);

	if (r == 0) {
		char *val = unquote(eq ? eq + 1 : "");

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
x_publish(struct xctx *x, const char *f, const char *v)
{
	char tmp[400];

	if (add_port(x->body, v, tmp, sizeof(tmp)) < 0)
		return errf(x->err, x->errlen, "extra_args: %s: %s", f, tmp);
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
	if (parse_port_range(s, &lo, &hi) < 0 || (strcmp(proto, "tcp") &&
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
x_volume(struct xctx *x, const char *f, const char *v)
{
	char tmp[400];

	if (add_volume(x->body, v, tmp, sizeof(tmp)) < 0)
		return errf(x->err, x->errlen, "extra_args: %s: %s", f, tmp);
	return 0;
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

			if (container_parse_size(val, &b) < 0) {
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
x_network(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "NetworkMode", json_string(v));
	return 0;
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
x_restart(struct xctx *x, const char *f, const char *v)
{
	char tmp[256];

	if (restart_policy(x->body, v, tmp, sizeof(tmp)) < 0)
		return errf(x->err, x->errlen, "extra_args: %s: %s", f, tmp);
	return 0;
}

static int
x_group_add(struct xctx *x, const char *f, const char *v)
{
	append(x->hc, "GroupAdd", v);
	return 0;
}

static int
x_ipc(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "IpcMode", json_string(v));
	return 0;
}

static int
x_pid(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "PidMode", json_string(v));
	return 0;
}

static int
x_userns(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "UsernsMode", json_string(v));
	return 0;
}

static int
x_uts(struct xctx *x, const char *f, const char *v)
{
	json_object_set_new(x->hc, "UTSMode", json_string(v));
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

static const struct xflag {
	const char *name;	/* long name without "--" */
	char shrt;		/* short letter or 0 */
	int boolean;		/* takes no value (=true/false allowed) */
	xfn *fn;
} xflags[] = {
	{ "add-host", 0, 0, x_add_host },
	{ "cap-add", 0, 0, x_cap_add },
	{ "cap-drop", 0, 0, x_cap_drop },
	{ "cpu-period", 0, 0, x_cpu_period },
	{ "cpu-quota", 0, 0, x_cpu_quota },
	{ "cpu-shares", 'c', 0, x_cpu_shares },
	{ "cpus", 0, 0, x_cpus },
	{ "cpuset-cpus", 0, 0, x_cpuset_cpus },
	{ "cpuset-mems", 0, 0, x_cpuset_mems },
	{ "detach", 'd', 1, x_detach },
	{ "device", 0, 0, x_device },
	{ "dns", 0, 0, x_dns },
	{ "dns-opt", 0, 0, x_dns_option },
	{ "dns-option", 0, 0, x_dns_option },
	{ "dns-search", 0, 0, x_dns_search },
	{ "domainname", 0, 0, x_domainname },
	{ "entrypoint", 0, 0, x_entrypoint },
	{ "env", 'e', 0, x_env },
	{ "expose", 0, 0, x_expose },
	{ "gpus", 0, 0, x_gpus },
	{ "group-add", 0, 0, x_group_add },
	{ "health-cmd", 0, 0, x_health_cmd },
	{ "health-interval", 0, 0, x_health_interval },
	{ "health-retries", 0, 0, x_health_retries },
	{ "health-start-period", 0, 0, x_health_start_period },
	{ "health-timeout", 0, 0, x_health_timeout },
	{ "hostname", 'h', 0, x_hostname },
	{ "init", 0, 1, x_init },
	{ "interactive", 'i', 1, x_interactive },
	{ "ip", 0, 0, x_ip },
	{ "ipc", 0, 0, x_ipc },
	{ "label", 'l', 0, x_label },
	{ "log-driver", 0, 0, x_log_driver },
	{ "log-opt", 0, 0, x_log_opt },
	{ "memory", 'm', 0, x_memory },
	{ "memory-reservation", 0, 0, x_memory_reservation },
	{ "memory-swap", 0, 0, x_memory_swap },
	{ "mount", 0, 0, x_mount },
	{ "net", 0, 0, x_network },
	{ "network", 0, 0, x_network },
	{ "network-alias", 0, 0, x_network_alias },
	{ "no-healthcheck", 0, 1, x_no_healthcheck },
	{ "oom-kill-disable", 0, 1, x_oom_kill_disable },
	{ "oom-score-adj", 0, 0, x_oom_score_adj },
	{ "pid", 0, 0, x_pid },
	{ "pids-limit", 0, 0, x_pids_limit },
	{ "privileged", 0, 1, x_privileged },
	{ "publish", 'p', 0, x_publish },
	{ "publish-all", 'P', 1, x_publish_all },
	{ "pull", 0, 0, x_pull },
	{ "read-only", 0, 1, x_read_only },
	{ "restart", 0, 0, x_restart },
	{ "security-opt", 0, 0, x_security_opt },
	{ "shm-size", 0, 0, x_shm_size },
	{ "stop-signal", 0, 0, x_stop_signal },
	{ "stop-timeout", 0, 0, x_stop_timeout },
	{ "sysctl", 0, 0, x_sysctl },
	{ "tmpfs", 0, 0, x_tmpfs },
	{ "tty", 't', 1, x_tty },
	{ "ulimit", 0, 0, x_ulimit },
	{ "user", 'u', 0, x_user },
	{ "userns", 0, 0, x_userns },
	{ "uts", 0, 0, x_uts },
	{ "volume", 'v', 0, x_volume },
	{ "workdir", 'w', 0, x_workdir },
};

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

static const struct xflag *
find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < KOM_NELEM(xflags); i++)
		if (strlen(xflags[i].name) == len &&
		    strncmp(xflags[i].name, name, len) == 0)
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

static int
unknown_flag(struct xctx *x, const char *tok, size_t len)
{
	for (size_t i = 0; i < KOM_NELEM(xrefused); i++)
		if (len == strlen(xrefused[i].name) + 2 &&
		    strncmp(tok + 2, xrefused[i].name, len - 2) == 0)
			return errf(x->err, x->errlen, "extra_args: --%s is "
			    "not supported: %s", xrefused[i].name,
			    xrefused[i].why);
	return errf(x->err, x->errlen, "extra_args: unsupported flag "
	    "'%.*s' (supported: %s)", (int)len, tok,
	    container_extra_args_supported);
}

static int
run_flag(struct xctx *x, const struct xflag *fl, const char *shown,
    const char *val, char **tok, size_t n, size_t *i)
{
	if (fl->boolean)
		return fl->fn(x, shown, val ? val : "true");
	if (val == NULL) {
		if (*i + 1 >= n)
			return errf(x->err, x->errlen, "extra_args: %s needs "
			    "a value", shown);
		val = tok[++*i];
	}
	return fl->fn(x, shown, val);
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
container_extra_args(json_t *body, const char *const *args, size_t n,
    char *err, size_t errlen)
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
			snprintf(shown, sizeof(shown), "--%s", fl->name);
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
					errf(err, errlen, "extra_args: "
					    "unsupported flag '-%c' in '%s' "
					    "(supported: %s)", *c, t,
					    container_extra_args_supported);
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

/* ---- the spec ---- */

int
container_hash(const json_t *body, char hash[CONTAINER_HASH_LEN])
{
	json_t *copy = json_deep_copy(body);
	json_t *labels;
	char *s;

	if (copy == NULL)
		return -1;
	labels = json_object_get(copy, "Labels");
	if (json_is_object(labels))
		json_object_del(labels, "kom.config-hash");
	s = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(copy);
	if (s == NULL)
		return -1;
	kom_sha256_hex(s, strlen(s), hash);
	free(s);
	return 0;
}

char *
container_name(const json_t *config, const char *resource_name)
{
	const char *c = str(config, "custom_name");
	size_t n;

	while (isspace((unsigned char)*c))
		c++;
	n = strlen(c);
	while (n > 0 && isspace((unsigned char)c[n - 1]))
		n--;
	return n ? xstrndup(c, n) : xstrdup(resource_name);
}

static int
kv_list(const json_t *config, const char *field, json_t *out_env,
    json_t *out_labels, char *err, size_t errlen)
{
	const json_t *list = json_object_get(config, field), *e;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(err, errlen, "%s: expected an array of "
		    "{\"key\",\"value\"}", field);
	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		const json_t *vj = json_object_get(e, "value");
		char *v;

		if (k == NULL || (vj != NULL && !json_is_string(vj)))
			return errf(err, errlen, "%s[%zu]: expected "
			    "{\"key\":string,\"value\":string}", field, i);
		if (*k == '\0')
			return errf(err, errlen, "%s[%zu]: empty key", field,
			    i);
		v = unquote(vj ? json_string_value(vj) : "");
		if (out_env != NULL) {
			char *kv = xasprintf("%s=%s", k, v);

			json_array_append_new(out_env, json_string(kv));
			free(kv);
		} else {
			if (check_label_key(k, err, errlen) < 0) {
				free(v);
				return -1;
			}
			json_object_set_new(out_labels, k, json_string(v));
		}
		free(v);
	}
	return 0;
}

static int
pair_list(const json_t *config, const char *field, json_t *body,
    int (*add)(json_t *, const char *, char *, size_t), char *err,
    size_t errlen)
{
	const json_t *list = json_object_get(config, field), *e;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(err, errlen, "%s: expected an array of "
		    "{\"local\",\"container\"}", field);
	json_array_foreach(list, i, e) {
		char *spec, tmp[400];
		int r;

		if (!json_is_object(e))
			return errf(err, errlen, "%s[%zu]: expected "
			    "{\"local\",\"container\"}", field, i);
		spec = join_pair(e);
		if (*spec == '\0') {
			free(spec);
			continue;
		}
		r = add(body, spec, tmp, sizeof(tmp));
		free(spec);
		if (r < 0)
			return errf(err, errlen, "%s[%zu]: %s", field, i, tmp);
	}
	return 0;
}

int
container_spec(const json_t *config, const struct container_spec_opts *o,
    json_t **bodyp, char hash[CONTAINER_HASH_LEN], char *err, size_t errlen)
{
	json_t *body, *hc, *labels, *env;
	const json_t *img = json_object_get(config, "image"), *xa, *tt;
	const char *image = o->image, *cmd, *net, *sig;
	char h[CONTAINER_HASH_LEN];

	if (!json_is_object(config))
		return errf(err, errlen, "config: expected an object");
	if (o->name == NULL || *o->name == '\0')
		return errf(err, errlen, "the resource name is empty");
	if (image == NULL) {
		const char *type = str(img, "type");

		if (strcmp(type, "Image") != 0 && *type != '\0')
			return errf(err, errlen, "image: a '%s' image must "
			    "be resolved to an image name first", type);
		image = str(json_object_get(img, "params"), "image");
	}
	while (isspace((unsigned char)*image))
		image++;
	if (*image == '\0')
		return errf(err, errlen, "image: no image name");

	body = json_object();
	hc = obj(body, "HostConfig");
	labels = obj(body, "Labels");
	json_object_set_new(body, "Image", json_string(image));

	cmd = str(config, "command");
	if (*cmd != '\0') {
		char **argv, tmp[200];
		size_t argc;

		if (shellwords_split(cmd, &argv, &argc, tmp, sizeof(tmp)) < 0) {
			errf(err, errlen, "command: %s", tmp);
			goto fail;
		}
		if (argc > 0) {
			json_t *a = json_array();

			for (size_t i = 0; i < argc; i++)
				json_array_append_new(a, json_string(argv[i]));
			json_object_set_new(body, "Cmd", a);
		}
		shellwords_free(argv);
	}

	env = json_array();
	json_object_set_new(body, "Env", env);
	if (kv_list(config, "environment", env, NULL, err, errlen) < 0 ||
	    kv_list(config, "labels", NULL, labels, err, errlen) < 0)
		goto fail;

	net = str(config, "network");
	while (isspace((unsigned char)*net))
		net++;
	json_object_set_new(hc, "NetworkMode",
	    json_string(*net ? net : "host"));
	if (pair_list(config, "ports", body, add_port, err, errlen) < 0 ||
	    pair_list(config, "volumes", body, add_volume, err, errlen) < 0)
		goto fail;
	{
		const char *rs = str(config, "restart");
		char tmp[300];

		if (restart_policy(body, rs, tmp, sizeof(tmp)) < 0) {
			errf(err, errlen, "%s", tmp);
			goto fail;
		}
	}
	sig = str(config, "termination_signal");
	json_object_set_new(body, "StopSignal",
	    json_string(*sig ? sig : "SIGTERM"));
	tt = json_object_get(config, "termination_timeout");
	if (tt != NULL && !json_is_null(tt)) {
		if (!json_is_integer(tt) || json_integer_value(tt) < 0 ||
		    json_integer_value(tt) > INT32_MAX) {
			errf(err, errlen, "termination_timeout: expected a "
			    "number of seconds");
			goto fail;
		}
		json_object_set(body, "StopTimeout", (json_t *)tt);
	} else {
		json_object_set_new(body, "StopTimeout", json_integer(10));
	}

	xa = json_object_get(config, "extra_args");
	if (xa != NULL && !json_is_null(xa)) {
		const char **v;
		size_t n = json_array_size(xa), i;
		const json_t *e;
		int r;

		if (!json_is_array(xa)) {
			errf(err, errlen, "extra_args: expected an array of "
			    "strings");
			goto fail;
		}
		v = xcalloc(n + 1, sizeof(*v));
		json_array_foreach(xa, i, e) {
			if (!json_is_string(e)) {
				free(v);
				errf(err, errlen, "extra_args[%zu]: expected "
				    "a string", i);
				goto fail;
			}
			v[i] = json_string_value(e);
		}
		r = container_extra_args(body, v, n, err, errlen);
		free(v);
		if (r < 0)
			goto fail;
	}

	if (o->labels != NULL) {
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)o->labels, k, v)
			if (json_is_string(v))
				json_object_set(labels, k, v);
	}
	json_object_set_new(labels, "kom.managed", json_string("true"));
	json_object_set_new(labels, "kom.type",
	    json_string(o->type ? o->type : "deployment"));
	json_object_set_new(labels, "kom.name", json_string(o->name));
	if (o->sync != NULL && *o->sync != '\0')
		json_object_set_new(labels, "kom.sync", json_string(o->sync));
	if (container_hash(body, h) < 0) {
		errf(err, errlen, "cannot serialize the container spec");
		goto fail;
	}
	json_object_set_new(labels, "kom.config-hash", json_string(h));
	if (hash != NULL)
		memcpy(hash, h, CONTAINER_HASH_LEN);
	*bodyp = body;
	return 0;
fail:
	json_decref(body);
	return -1;
}

/* ---- drift ---- */

static int
is_zero(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 1;
	if (json_is_integer(v))
		return json_integer_value(v) == 0;
	if (json_is_string(v))
		return *json_string_value(v) == '\0';
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return json_object_size(v) == 0;
	return 0;
}

static int
same(const json_t *want, const json_t *got)
{
	if (is_zero(want))
		return is_zero(got);
	return json_equal((json_t *)want, (json_t *)got);
}

static void
whyf(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
whyf(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static char *
short_json(const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_SORT_KEYS) : NULL;
	char *r;

	if (s == NULL)
		return xstrdup("null");
	if (strlen(s) > 120) {
		r = xasprintf("%.117s...", s);
		free(s);
		return r;
	}
	r = xstrdup(s);
	free(s);
	return r;
}

int
container_drift(const json_t *inspect, const json_t *body, char *why,
    size_t whylen)
{
	static const char *const hckeys[] = {
		"NetworkMode", "Binds", "PortBindings", "Memory",
		"MemoryReservation", "NanoCpus", "CpuShares", "CpusetCpus",
		"PidsLimit", "Privileged", "ReadonlyRootfs",
	};
	const json_t *cfg, *hc, *bhc, *labels, *blabels, *v, *env;
	const char *k, *want, *got;
	size_t i;

	whyf(why, whylen, "%s", "");
	if (inspect == NULL) {
		whyf(why, whylen, "the container does not exist");
		return CONTAINER_DRIFT_REMOVED;
	}
	cfg = json_object_get(inspect, "Config");
	hc = json_object_get(inspect, "HostConfig");
	bhc = json_object_get(body, "HostConfig");
	labels = json_object_get(cfg, "Labels");
	blabels = json_object_get(body, "Labels");
	if (strcmp(str(labels, "kom.managed"), "true") != 0) {
		whyf(why, whylen, "the container has no kom.managed=true "
		    "label: it was not created by kom");
		return CONTAINER_DRIFT_UNMANAGED;
	}
	want = str(blabels, "kom.config-hash");
	got = str(labels, "kom.config-hash");
	if (*got == '\0') {
		whyf(why, whylen, "the container has no kom.config-hash label");
		return CONTAINER_DRIFT_CHANGED;
	}
	if (strcmp(want, got) != 0) {
		whyf(why, whylen, "config hash %.12s differs from the "
		    "deployment's %.12s: the spec changed since the container "
		    "was created", got, want);
		return CONTAINER_DRIFT_CHANGED;
	}
	if (strcmp(str(cfg, "Image"), str(body, "Image")) != 0) {
		whyf(why, whylen, "image is '%s', want '%s'", str(cfg, "Image"),
		    str(body, "Image"));
		return CONTAINER_DRIFT_CHANGED;
	}
	v = json_object_get(body, "Cmd");
	if (v != NULL && !json_equal((json_t *)v, json_object_get(cfg, "Cmd"))) {
		whyf(why, whylen, "command differs");
		return CONTAINER_DRIFT_CHANGED;
	}
	/* The image's own Env and Labels are merged in: look for ours. */
	env = json_object_get(cfg, "Env");
	json_array_foreach(json_object_get(body, "Env"), i, v) {
		const char *e = json_string_value(v);
		const json_t *g;
		size_t j;
		int found = 0;

		json_array_foreach(env, j, g)
			if (json_is_string(g) &&
			    strcmp(json_string_value(g), e) == 0)
				found = 1;
		if (!found) {
			const char *eq = strchr(e, '=');

			whyf(why, whylen, "environment variable %.*s differs",
			    (int)(eq ? eq - e : (long)strlen(e)), e);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	json_object_foreach((json_t *)blabels, k, v) {
		if (!json_equal(v, json_object_get(labels, k))) {
			whyf(why, whylen, "label %s differs", k);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	for (i = 0; i < KOM_NELEM(hckeys); i++) {
		const json_t *w = json_object_get(bhc, hckeys[i]);
		const json_t *g = json_object_get(hc, hckeys[i]);

		if (!same(w, g)) {
			char *ws = short_json(w), *gs = short_json(g);

			whyf(why, whylen, "HostConfig.%s is %s, want %s",
			    hckeys[i], gs, ws);
			free(ws);
			free(gs);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	{
		const json_t *w = json_object_get(bhc, "RestartPolicy");
		const json_t *g = json_object_get(hc, "RestartPolicy");
		const char *wn = str(w, "Name"), *gn = str(g, "Name");
		json_int_t wc = json_integer_value(json_object_get(w,
		    "MaximumRetryCount"));
		json_int_t gc = json_integer_value(json_object_get(g,
		    "MaximumRetryCount"));

		if (*wn == '\0')
			wn = "no";
		if (*gn == '\0')
			gn = "no";
		if (strcmp(wn, gn) != 0 || wc != gc) {
			whyf(why, whylen, "restart policy is %s:%lld, want "
			    "%s:%lld", gn, (long long)gc, wn, (long long)wc);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	if (!json_is_true(json_object_get(json_object_get(inspect, "State"),
	    "Running"))) {
		whyf(why, whylen, "the container is %s",
		    *str(json_object_get(inspect, "State"), "Status") ?
		    str(json_object_get(inspect, "State"), "Status") :
		    "not running");
		return CONTAINER_DRIFT_STOPPED;
	}
	return CONTAINER_DRIFT_NONE;
}

const char *
container_drift_name(int drift)
{
	switch (drift) {
	case CONTAINER_DRIFT_CHANGED: return "changed";
	case CONTAINER_DRIFT_STOPPED: return "stopped";
	case CONTAINER_DRIFT_REMOVED: return "removed";
	case CONTAINER_DRIFT_UNMANAGED: return "unmanaged";
	default: return NULL;
	}
}
