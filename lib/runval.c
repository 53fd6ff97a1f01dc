/*
 * runval: docker run's value syntaxes into a create body (runval.h).
 *
 * The rules are the docker CLI's where users rely on them (-p ranges and
 * IPv6 brackets, -v options, Go durations), checked up front so that a
 * mistake is reported with the resource's file:line, not by the engine.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "runval.h"
#include "util.h"
#include "banned.h"

int
runval_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- body helpers ---- */

json_t *
runval_obj(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

json_t *
runval_arr(json_t *parent, const char *key)
{
	json_t *a = json_object_get(parent, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(parent, key, a);
	}
	return a;
}

const char *
runval_str(const json_t *o, const char *key)
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

int
runval_int(const char *s, long long min, long long max, long long *out)
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
runval_size(const char *s, int64_t *bytes)
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
runval_duration(const char *s, int64_t *ns)
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

int
runval_port_range(const char *s, long *lo, long *hi)
{
	long long a, b;
	const char *dash = strchr(s, '-');

	if (dash == NULL) {
		if (!all_digits(s) || runval_int(s, 1, 65535, &a) < 0)
			return -1;
		*lo = *hi = (long)a;
		return 0;
	}
	{
		char *first = xstrndup(s, (size_t)(dash - s));
		int r = all_digits(first) && all_digits(dash + 1) &&
		    runval_int(first, 1, 65535, &a) == 0 &&
		    runval_int(dash + 1, 1, 65535, &b) == 0 && a <= b;

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
int
runval_port(json_t *body, const char *spec, char *err, size_t errlen)
{
	char *s = xstrdup(spec), *proto = "tcp", *slash, *cport, *hport = "",
	    *ip = "", *colon;
	long clo, chi, hlo = 0, hhi = 0;
	json_t *hc = runval_obj(body, "HostConfig");
	int r = -1;

	slash = strrchr(s, '/');
	if (slash != NULL) {
		*slash = '\0';
		proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
		    strcmp(proto, "sctp")) {
			runval_err(err, errlen, "port '%s': unknown "
			    "protocol '%s' (tcp, udp, sctp)", spec, proto);
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
					runval_err(err, errlen, "port '%s': "
					    "bad address", spec);
					goto out;
				}
				ip[l - 1] = '\0';
				ip++;
			}
		}
	}
	if (runval_port_range(cport, &clo, &chi) < 0) {
		runval_err(err, errlen, "port '%s': bad container port '%s'",
		    spec, cport);
		goto out;
	}
	if (*hport != '\0') {
		if (runval_port_range(hport, &hlo, &hhi) < 0) {
			runval_err(err, errlen, "port '%s': bad host port "
			    "'%s'", spec, hport);
			goto out;
		}
		if (clo != chi && hhi - hlo != chi - clo) {
			runval_err(err, errlen, "port '%s': host and "
			    "container ranges differ in length", spec);
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
		json_object_set_new(runval_obj(body, "ExposedPorts"), key,
		    json_object());
		b = json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", hp);
		json_array_append_new(runval_arr(runval_obj(hc,
		    "PortBindings"), key), b);
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
int
runval_volume(json_t *body, const char *spec, char *err, size_t errlen)
{
	char *s = xstrdup(spec), *src, *dst, *opts = NULL, *c;
	int r = -1;

	c = strchr(s, ':');
	if (c == NULL) {
		if (s[0] != '/') {
			runval_err(err, errlen, "volume '%s': the container "
			    "path must be absolute", spec);
			goto out;
		}
		json_object_set_new(runval_obj(body, "Volumes"), s,
		    json_object());
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
				runval_err(err, errlen, "volume '%s': unknown "
				    "option '%s'", spec, o);
				free(p);
				goto out;
			}
		free(p);
	}
	if (*src == '\0') {
		runval_err(err, errlen, "volume '%s': empty host path or "
		    "volume name", spec);
		goto out;
	}
	if (dst[0] != '/') {
		runval_err(err, errlen, "volume '%s': the container path "
		    "must be absolute", spec);
		goto out;
	}
	if (src[0] == '.' || src[0] == '~') {
		runval_err(err, errlen, "volume '%s': a host path must be "
		    "absolute", spec);
		goto out;
	}
	if (src[0] != '/') {
		for (c = src; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("_.-", *c)) {
				runval_err(err, errlen, "volume '%s': '%s' is "
				    "neither an absolute path nor a volume "
				    "name", spec, src);
				goto out;
			}
	}
	json_array_append_new(runval_arr(runval_obj(body, "HostConfig"),
	    "Binds"), json_string(spec));
	r = 0;
out:
	free(s);
	return r;
}

char *
runval_unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		return xstrndup(v + 1, n - 2);
	return xstrdup(v);
}

int
runval_restart(json_t *body, const char *v, char *err, size_t errlen)
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
		if (v[10] == ':' && runval_int(v + 11, 0, INT32_MAX, &n) < 0)
			return runval_err(err, errlen, "restart '%s': bad "
			    "retry count", v);
		rp = json_pack("{s:s,s:I}", "Name", "on-failure",
		    "MaximumRetryCount", (json_int_t)n);
	} else {
		return runval_err(err, errlen, "restart '%s': expected no, "
		    "on-failure, always or unless-stopped", v);
	}
	json_object_set_new(runval_obj(body, "HostConfig"), "RestartPolicy",
	    rp);
	return 0;
}

int
runval_label_key(const char *k, char *err, size_t errlen)
{
	if (*k == '\0')
		return runval_err(err, errlen, "label with an empty key");
	if (strncmp(k, "kom.", 4) == 0)
		return runval_err(err, errlen, "label '%s': the kom. prefix "
		    "is reserved for kom's own labels", k);
	return 0;
}
