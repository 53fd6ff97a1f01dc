/*
 * runval: docker run's value syntaxes on their own (their use by the
 * config fields and flags is tested in tests/unit/container.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runval.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

static void
test_units(void)
{
	static const struct {
		const char *in;
		long long want;
	} sizes[] = {
		{ "0", 0 }, { "512", 512 }, { "512b", 512 }, { "1k", 1024 },
		{ "1K", 1024 }, { "512m", 536870912 }, { "512mb", 536870912 },
		{ "1g", 1073741824 }, { "1GiB", 1073741824 },
		{ "1.5g", 1610612736 }, { "2t", 2199023255552LL },
	};
	static const char *const badsizes[] = {
		"", "m", "-1m", "1x", "1mm", "1gb2", "1e3", "99999999999p",
	};
	static const struct {
		const char *in;
		long long want;
	} durs[] = {
		{ "0", 0 }, { "30s", 30000000000LL }, { "1m30s", 90000000000LL },
		{ "500ms", 500000000 }, { "2h", 7200000000000LL },
		{ "1.5s", 1500000000 }, { "10us", 10000 }, { "7ns", 7 },
		{ "1h2m3s", 3723000000000LL },
	};
	static const char *const baddurs[] = {
		"", "30", "s", "-1s", "1x", "1s2", "1e3s", "1 s",
	};
	int64_t v;

	for (size_t i = 0; i < KOM_NELEM(sizes); i++) {
		v = -7;
		ok(runval_size(sizes[i].in, &v) == 0 &&
		    v == sizes[i].want, "size %s = %lld (got %lld)",
		    sizes[i].in, sizes[i].want, (long long)v);
	}
	for (size_t i = 0; i < KOM_NELEM(badsizes); i++)
		ok(runval_size(badsizes[i], &v) == -1,
		    "size '%s' is refused", badsizes[i]);
	for (size_t i = 0; i < KOM_NELEM(durs); i++) {
		v = -7;
		ok(runval_duration(durs[i].in, &v) == 0 &&
		    v == durs[i].want, "duration %s = %lld (got %lld)",
		    durs[i].in, durs[i].want, (long long)v);
	}
	for (size_t i = 0; i < KOM_NELEM(baddurs); i++)
		ok(runval_duration(baddurs[i], &v) == -1,
		    "duration '%s' is refused", baddurs[i]);
}

/* spec into a fresh body with f; the body as JSON, or the message. */
static char *
into(int (*f)(json_t *, const char *, char *, size_t), const char *spec)
{
	json_t *body = json_object();
	char err[400], *s;

	if (f(body, spec, err, sizeof(err)) < 0)
		s = xasprintf("error: %s", err);
	else
		s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	return s;
}

static void
is_into(int (*f)(json_t *, const char *, char *, size_t), const char *spec,
    const char *want)
{
	char *got = into(f, spec);

	is_str(got, want, "%s", spec);
	free(got);
}

static void
test_syntaxes(void)
{
	long lo = 0, hi = 0;
	char err[200], *s;

	is_into(runval_port, "8080:80", "{\"ExposedPorts\":{\"80/tcp\":{}},"
	    "\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\","
	    "\"HostPort\":\"8080\"}]}}}");
	is_into(runval_port, "[::1]:53:53/udp", "{\"ExposedPorts\":"
	    "{\"53/udp\":{}},\"HostConfig\":{\"PortBindings\":{\"53/udp\":"
	    "[{\"HostIp\":\"::1\",\"HostPort\":\"53\"}]}}}");
	is_into(runval_port, "[::1:53:53", "error: port '[::1:53:53': bad "
	    "address");
	is_into(runval_port, "0:80", "error: port '0:80': bad host port '0'");
	is_into(runval_volume, "/a:/b:ro,z", "{\"HostConfig\":{\"Binds\":"
	    "[\"/a:/b:ro,z\"]}}");
	is_into(runval_volume, "/cache", "{\"Volumes\":{\"/cache\":{}}}");
	is_into(runval_volume, "~/x:/x", "error: volume '~/x:/x': a host path "
	    "must be absolute");
	is_into(runval_volume, ":/x", "error: volume ':/x': empty host path or "
	    "volume name");
	is_into(runval_restart, "", "{\"HostConfig\":{\"RestartPolicy\":"
	    "{\"MaximumRetryCount\":0,\"Name\":\"no\"}}}");
	is_into(runval_restart, "on-failure", "{\"HostConfig\":"
	    "{\"RestartPolicy\":{\"MaximumRetryCount\":10,"
	    "\"Name\":\"on-failure\"}}}");
	is_into(runval_restart, "on-failure:x", "error: restart "
	    "'on-failure:x': bad retry count");
	is_into(runval_restart, "on-failures", "error: restart "
	    "'on-failures': expected no, on-failure, always or unless-stopped");

	ok(runval_port_range("7000-7001", &lo, &hi) == 0 && lo == 7000 &&
	    hi == 7001, "a port range");
	ok(runval_port_range("80", &lo, &hi) == 0 && lo == 80 && hi == 80,
	    "one port");
	ok(runval_port_range("81-80", &lo, &hi) < 0, "a range backwards");
	ok(runval_port_range("65536", &lo, &hi) < 0, "a port over 65535");
	ok(runval_port_range("+80", &lo, &hi) < 0, "a sign");

	is_int(runval_label_key("tier", err, sizeof(err)), 0, "a label key");
	ok(runval_label_key("", err, sizeof(err)) < 0 &&
	    strcmp(err, "label with an empty key") == 0, "an empty one");
	ok(runval_label_key("kom.x", err, sizeof(err)) < 0 &&
	    strstr(err, "reserved") != NULL, "kom. is reserved");
	ok(runval_label_key("kom", err, sizeof(err)) == 0,
	    "kom without a dot is not");

	s = runval_unquote("\"a b\"");
	is_str(s, "a b", "double quotes lose their pair");
	free(s);
	s = runval_unquote("'x'");
	is_str(s, "x", "single quotes too");
	free(s);
	s = runval_unquote("\"x'");
	is_str(s, "\"x'", "unmatched quotes stay");
	free(s);
	s = runval_unquote("\"");
	is_str(s, "\"", "a lone quote stays");
	free(s);
}

int
main(void)
{
	test_units();
	test_syntaxes();
	return done_testing();
}
