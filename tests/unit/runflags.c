/*
 * runflags: the table of docker run flags is the one list: every flag in
 * it is accepted under each of its names, the "supported" message is
 * exactly the table, and kom-exec(1) documents every name.  The mapping
 * of each flag to the body is tested in tests/unit/container.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "file.h"
#include "runflags.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

/*
 * A valid value for each flag that takes one.  A flag added to the table
 * without a sample here fails the test: add one.
 */
static const struct {
	const char *flag, *value;
} samples[] = {
	{ "add-host", "db:10.0.0.2" }, { "cap-add", "NET_ADMIN" },
	{ "cap-drop", "ALL" }, { "cpu-period", "100000" },
	{ "cpu-quota", "50000" }, { "cpu-shares", "512" }, { "cpus", "1.5" },
	{ "cpuset-cpus", "0-1" }, { "cpuset-mems", "0" },
	{ "device", "/dev/fuse" }, { "dns", "1.1.1.1" },
	{ "dns-option", "ndots:2" }, { "dns-search", "lan" },
	{ "domainname", "example.org" }, { "entrypoint", "/bin/sh" },
	{ "env", "X=1" }, { "expose", "80" }, { "gpus", "all" },
	{ "group-add", "video" }, { "health-cmd", "true" },
	{ "health-interval", "30s" }, { "health-retries", "3" },
	{ "health-start-period", "1s" }, { "health-timeout", "5s" },
	{ "hostname", "web" }, { "ip", "172.20.0.5" }, { "ipc", "host" },
	{ "label", "a=b" }, { "log-driver", "json-file" },
	{ "log-opt", "max-size=10m" }, { "memory", "512m" },
	{ "memory-reservation", "256m" }, { "memory-swap", "-1" },
	{ "mount", "type=tmpfs,dst=/t" }, { "network", "backend" },
	{ "network-alias", "api" }, { "oom-score-adj", "-500" },
	{ "pid", "host" }, { "pids-limit", "100" }, { "publish", "8080:80" },
	{ "pull", "always" }, { "restart", "always" },
	{ "security-opt", "no-new-privileges" }, { "shm-size", "64m" },
	{ "stop-signal", "SIGINT" }, { "stop-timeout", "5" },
	{ "sysctl", "net.core.somaxconn=1024" }, { "tmpfs", "/run" },
	{ "ulimit", "nofile=1024" }, { "user", "1000" }, { "userns", "host" },
	{ "uts", "host" }, { "volume", "/a:/b" }, { "workdir", "/app" },
};

static const char *
sample(const char *flag)
{
	for (size_t i = 0; i < KOM_NELEM(samples); i++)
		if (strcmp(samples[i].flag, flag) == 0)
			return samples[i].value;
	return NULL;
}

/* --ip and --network-alias need a user-defined network to be valid. */
static int
accepted(const char *a1, const char *a2, char *err, size_t errlen)
{
	const char *args[3] = { "--network=backend", a1, a2 };
	json_t *body = json_object();
	int r = runflags_apply(body, args, a2 ? 3 : 2, err, errlen);

	json_decref(body);
	return r == 0;
}

static void
test_each_flag(void)
{
	struct runflag_name f;
	char err[RUNFLAGS_ERR_MAX];
	size_t i;

	for (i = 0; runflags_flag(i, &f) == 0; i++) {
		const char *v = f.boolean ? NULL : sample(f.name);
		char *a, *s;

		if (!f.boolean && !ok(v != NULL, "--%s has a sample value in "
		    "this test", f.name))
			continue;
		a = v ? xasprintf("--%s=%s", f.name, v) :
		    xasprintf("--%s", f.name);
		if (!ok(accepted(a, NULL, err, sizeof(err)), "%s", a))
			diag("%s", err);
		free(a);
		if (v != NULL) {
			a = xasprintf("--%s", f.name);
			if (!ok(accepted(a, v, err, sizeof(err)), "%s %s", a,
			    v))
				diag("%s", err);
			free(a);
		} else {
			a = xasprintf("--%s=false", f.name);
			if (!ok(accepted(a, NULL, err, sizeof(err)), "%s", a))
				diag("%s", err);
			free(a);
		}
		if (f.alias != NULL) {
			a = v ? xasprintf("--%s=%s", f.alias, v) :
			    xasprintf("--%s", f.alias);
			if (!ok(accepted(a, NULL, err, sizeof(err)),
			    "alias %s", a))
				diag("%s", err);
			free(a);
		}
		if (f.shrt != 0) {
			a = xasprintf("-%c", f.shrt);
			s = v ? xasprintf("-%c%s", f.shrt, v) : NULL;
			if (!ok(accepted(a, v, err, sizeof(err)), "%s %s", a,
			    v ? v : ""))
				diag("%s", err);
			if (s != NULL && !ok(accepted(s, NULL, err,
			    sizeof(err)), "%s", s))
				diag("%s", err);
			free(a);
			free(s);
		}
	}
	ok(i > 60, "the table has %zu flags", i);
	for (size_t j = 0; j < KOM_NELEM(samples); j++) {
		size_t k;

		for (k = 0; runflags_flag(k, &f) == 0; k++)
			if (strcmp(f.name, samples[j].flag) == 0)
				break;
		ok(runflags_flag(k, &f) == 0, "sample --%s is a flag of the "
		    "table", samples[j].flag);
	}
}

/* The "supported" part of the messages, rebuilt from the table here. */
static void
test_message(void)
{
	struct runflag_name f;
	struct buf want = BUF_INIT, got = BUF_INIT;
	char err[RUNFLAGS_ERR_MAX], *m;
	const char *args[] = { "--frobnicate" }, *sargs[] = { "-Z" };
	json_t *body = json_object();

	for (size_t i = 0; runflags_flag(i, &f) == 0; i++) {
		buf_printf(&want, "%s--%s", i ? " " : "", f.name);
		if (f.alias)
			buf_printf(&want, "/--%s", f.alias);
		if (f.shrt)
			buf_printf(&want, "/-%c", f.shrt);
	}
	runflags_supported(&got);
	is_str(got.s, want.s, "runflags_supported lists the table");
	ok(strstr(got.s, " --dns-option/--dns-opt ") != NULL,
	    "--dns-opt is listed (the hand-written list had lost it)");
	ok(strstr(got.s, " --network/--net ") != NULL, "--net is listed");

	m = xasprintf("extra_args: unsupported flag '--frobnicate' "
	    "(supported: %s)", want.s);
	ok(runflags_apply(body, args, 1, err, sizeof(err)) < 0,
	    "an unknown flag is refused");
	is_str(err, m, "the message lists exactly the table");
	ok(strlen(m) < sizeof(err), "and fits RUNFLAGS_ERR_MAX (%zu < %zu)",
	    strlen(m), sizeof(err));
	free(m);
	m = xasprintf("extra_args: unsupported flag '-Z' in '-Z' "
	    "(supported: %s)", want.s);
	ok(runflags_apply(body, sargs, 1, err, sizeof(err)) < 0,
	    "an unknown short flag is refused");
	is_str(err, m, "its message lists exactly the table");
	free(m);
	json_decref(body);
	buf_free(&want);
	buf_free(&got);
}

/* "Fl -name" followed by a space, a comma or the end of the line. */
static int
documents(const char *man, const char *name)
{
	char *pat = xasprintf("Fl -%s", name);
	const char *p;
	int r = 0;

	for (p = man; !r && (p = strstr(p, pat)) != NULL; p++)
		r = strchr(" ,\n", p[strlen(pat)]) != NULL;
	free(pat);
	return r;
}

/* kom-exec(1) names every flag under each of its names. */
static void
test_man(const char *argv0)
{
	char *dir = file_dirname(argv0), *path;
	struct runflag_name f;
	struct buf man = BUF_INIT;

	path = xasprintf("%s/../../man/kom-exec.1", dir);
	if (ok(file_read(path, &man, 1 << 20) == 0, "read %s", path)) {
		for (size_t i = 0; runflags_flag(i, &f) == 0; i++) {
			ok(documents(man.s, f.name), "kom-exec(1) documents "
			    "--%s", f.name);
			if (f.alias != NULL)
				ok(documents(man.s, f.alias), "kom-exec(1) "
				    "documents --%s", f.alias);
		}
	}
	buf_free(&man);
	free(path);
	free(dir);
}

int
main(int argc, char **argv)
{
	test_each_flag();
	test_message();
	test_man(argc > 0 ? argv[0] : "tests/unit/runflags.t");
	return done_testing();
}
