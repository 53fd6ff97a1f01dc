/*
 * docker_live: lib/docker and lib/container against a real dockerd and
 * real registries.  It needs no wrapper: it brings the engine up itself
 * with tests/docker.sh (which starts Debian's dockerd when no socket
 * answers, and docker-registry), so `prove` can run it like any unit
 * test.  When the engine cannot be brought up it bails out (the run
 * stops and says why) instead of skipping.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "buf.h"
#include "container.h"
#include "container_drift.h"
#include "docker.h"
#include "file.h"
#include "proc.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

static char top[4096];
static char prefix[64];		/* container/image name prefix of this run */
static char testid[64];		/* kom.test label value */
static char tmpdir[256];

/* Run a shell command line (built only from this test's own values). */
static int
sh(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sh(struct buf *out, const char *fmt, ...)
{
	va_list ap;
	struct buf cmd = BUF_INIT, err = BUF_INIT;
	struct proc_opts o = { 0 };
	int status = -1;
	char *argv[] = { "sh", "-c", NULL, NULL };

	va_start(ap, fmt);
	buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	argv[2] = cmd.s;
	o.cwd = top;
	o.out = out;
	o.err = &err;
	o.timeout_ms = 300000;
	if (proc_run(argv, &o, &status) < 0)
		status = -1;
	if (status != 0) {
		diag("command failed (%d): %s", status, cmd.s);
		for (char *p = err.s, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (nl == NULL) {
				diag("%s", p);
				break;
			}
			*nl = '\0';
			diag("%s", p);
		}
	}
	buf_free(&cmd);
	buf_free(&err);
	return status;
}

static void
chomp(struct buf *b)
{
	while (b->len > 0 && (b->s[b->len - 1] == '\n' ||
	    b->s[b->len - 1] == '\r'))
		buf_truncate(b, b->len - 1);
}

static void
bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(255);
}

static json_t *
make_spec(const char *image, const char *command, const char *extra,
    char *hash)
{
	char err[512];
	json_t *conf, *body = NULL, *lab;
	struct container_spec_opts o = { "web", "deployment", "live", image,
	    NULL };
	char *text = xasprintf("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"\"}},\"command\":\"%s\",\"environment\":"
	    "[{\"key\":\"SECRET\",\"value\":\"s3cr3t-value\"},"
	    "{\"key\":\"GREETING\",\"value\":\"\\\"hello world\\\"\"}],"
	    "\"labels\":[{\"key\":\"team\",\"value\":\"web\"}],"
	    "\"network\":\"host\",\"restart\":\"no\","
	    "\"volumes\":[{\"local\":\"%s\",\"container\":\"/www:ro\"}],"
	    "\"termination_signal\":\"SIGTERM\",\"termination_timeout\":2,"
	    "\"extra_args\":[%s]}", command, tmpdir, extra ? extra : "");

	conf = json_loads(text, 0, NULL);
	if (conf == NULL)
		bail("bad spec json in the test");
	lab = json_pack("{s:s}", "kom.test", testid);
	o.labels = lab;
	if (container_spec(conf, &o, &body, hash, err, sizeof(err)) < 0) {
		diag("container_spec: %s", err);
		bail("container_spec failed");
	}
	json_decref(lab);
	json_decref(conf);
	free(text);
	return body;
}

static const char *
jstr(const json_t *j, const char *a, const char *b)
{
	const json_t *v = json_object_get(j, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v) ? json_string_value(v) : "";
}

static void
test_unreachable(void)
{
	struct docker_error err;
	struct docker *d;

	setenv("DOCKER_HOST", "unix:///nonexistent", 1);
	d = docker_open(&err);
	ok(d == NULL, "no socket: docker_open fails");
	is_int(err.code, DOCKER_EUNREACHABLE, "no socket: unreachable");
	is_str(err.msg, "cannot reach the Docker engine at "
	    "unix:///nonexistent: No such file or directory", "message");

	setenv("DOCKER_HOST", "tcp://127.0.0.1:1", 1);
	d = docker_open(&err);
	ok(d == NULL && err.code == DOCKER_EUNREACHABLE, "closed tcp port");
	is_str(err.msg, "cannot reach the Docker engine at "
	    "tcp://127.0.0.1:1: Connection refused", "message");

	setenv("DOCKER_HOST", "ssh://user@host", 1);
	d = docker_open(&err);
	ok(d == NULL && err.code == DOCKER_ECONFIG, "ssh:// is refused");
	is_str(err.msg, "DOCKER_HOST 'ssh://user@host' is not supported: use "
	    "unix:///path or tcp://host:port", "message");

	setenv("DOCKER_HOST", "tcp://127.0.0.1:1", 1);
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", "/nonexistent-certs", 1);
	d = docker_open(&err);
	ok(d == NULL && err.code == DOCKER_ECONFIG, "missing TLS files");
	is_str(err.msg, "cannot read /nonexistent-certs/ca.pem: No such file "
	    "or directory", "message");
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	setenv("DOCKER_HOST", "unix:///var/run/docker.sock", 1);
}

static void
test_version(void)
{
	struct docker_error err;
	struct docker *d;
	json_t *v = NULL;

	unsetenv("DOCKER_HOST");	/* the default socket */
	d = docker_open(&err);
	if (!ok(d != NULL, "docker_open on the default socket"))
		diag("%s", err.msg);
	if (d == NULL)
		bail("cannot open the engine");
	is_str(docker_endpoint(d), "unix:///var/run/docker.sock", "endpoint");
	ok(docker_ping(d, &err) == 0, "ping");
	ok(docker_version(d, &v, &err) == 0 && json_is_string(
	    json_object_get(v, "Version")), "version");
	{
		const char *srv = jstr(v, "ApiVersion", NULL);
		char want[16];

		/* min(server, DOCKER_API_MAX) */
		snprintf(want, sizeof(want), "%s",
		    strcmp(srv, DOCKER_API_MAX) < 0 && strlen(srv) ==
		    strlen(DOCKER_API_MAX) ? srv : DOCKER_API_MAX);
		is_str(docker_api_version(d), want, "negotiated min(server %s, "
		    "%s)", srv, DOCKER_API_MAX);
	}
	json_decref(v);
	docker_close(d);

	setenv("DOCKER_API_VERSION", "1.40", 1);
	d = docker_open(&err);
	ok(d != NULL && strcmp(docker_api_version(d), "1.40") == 0,
	    "DOCKER_API_VERSION pins the version");
	docker_close(d);
	setenv("DOCKER_API_VERSION", "1.12", 1);
	d = docker_open(&err);
	ok(d == NULL && err.code == DOCKER_ECONFIG, "too old an API version");
	docker_close(d);
	setenv("DOCKER_API_VERSION", "one", 1);
	d = docker_open(&err);
	ok(d == NULL && err.code == DOCKER_ECONFIG, "a bad API version");
	docker_close(d);
	unsetenv("DOCKER_API_VERSION");
}

/* A port nobody listens on now (the kernel's pick). */
static int
free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		bail("cannot find a free port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void
test_lifecycle(struct docker *d, const char *image)
{
	struct docker_error err;
	char id[DOCKER_ID_LEN], id2[DOCKER_ID_LEN], hash[CONTAINER_HASH_LEN];
	char why[512], name[128], name2[128];
	json_t *body, *ins = NULL, *list = NULL;
	const char *labels[3];
	struct buf out = BUF_INIT;
	long status = -1;
	char *cmd = xasprintf("httpd -f -p 127.0.0.1:%d -h /www", free_port());

	body = make_spec(image, cmd, "\"--memory=256m\",\"--init\"", hash);
	free(cmd);
	snprintf(name, sizeof(name), "%sweb", prefix);
	snprintf(name2, sizeof(name2), "%sweb-renamed", prefix);

	ok(docker_container_create(d, name, body, id, &err) == 0,
	    "create %s (%s)", name, err.msg);
	is_int(strlen(id), 64, "container id");
	ok(docker_container_create(d, name, body, id2, &err) == -1 &&
	    err.code == DOCKER_ECONFLICT && err.http == 409,
	    "the same name again: conflict (%s)", err.msg);
	ok(strstr(err.msg, "s3cr3t") == NULL, "no secret in the message");

	ok(docker_container_inspect(d, name, &ins, &err) == 0, "inspect by "
	    "name");
	is_str(jstr(ins, "Id", NULL), id, "inspect gives the id");
	is_str(jstr(json_object_get(ins, "Config"), "Labels",
	    "kom.config-hash"), hash, "config hash label");
	is_str(jstr(json_object_get(ins, "Config"), "Labels", "kom.managed"),
	    "true", "kom.managed label");
	is_int(json_integer_value(json_object_get(json_object_get(ins,
	    "HostConfig"), "Memory")), 268435456, "--memory from extra_args");
	is_int(container_drift(ins, body, why, sizeof(why)),
	    CONTAINER_DRIFT_STOPPED, "created, not started: stopped (%s)", why);
	json_decref(ins);

	ok(docker_container_start(d, id, &err) == 0, "start (%s)", err.msg);
	ok(docker_container_start(d, id, &err) == 0, "start again is fine");
	ok(docker_container_inspect(d, id, &ins, &err) == 0, "inspect by id");
	if (!ok(container_drift(ins, body, why, sizeof(why)) ==
	    CONTAINER_DRIFT_NONE, "running and matching: no drift"))
		diag("%s", why);
	{
		json_t *env = json_object_get(json_object_get(ins, "Config"),
		    "Env");
		size_t i;
		json_t *e;
		int found = 0;

		json_array_foreach(env, i, e)
			if (strcmp(json_string_value(e),
			    "GREETING=hello world") == 0)
				found = 1;
		ok(found, "quoted env value lost its quotes");
	}
	json_decref(ins);

	labels[0] = "kom.managed=true";
	{
		char *l = xasprintf("kom.test=%s", testid);

		labels[1] = l;
		labels[2] = NULL;
		ok(docker_container_list(d, labels, 1, &list, &err) == 0 &&
		    json_array_size(list) == 1, "list by label: 1 container");
		is_str(jstr(json_array_get(list, 0), "Id", NULL), id,
		    "the listed one");
		json_decref(list);
		free(l);
	}

	/* pause: a paused container still counts as running */
	ok(docker_container_pause(d, id, &err) == 0, "pause");
	ok(docker_container_inspect(d, id, &ins, &err) == 0 &&
	    json_is_true(json_object_get(json_object_get(ins, "State"),
	    "Paused")), "paused");
	is_int(container_drift(ins, body, why, sizeof(why)),
	    CONTAINER_DRIFT_NONE, "paused is not drift");
	json_decref(ins);
	ok(docker_container_unpause(d, id, &err) == 0, "unpause");

	/* a hand-made change */
	ok(sh(NULL, "docker update --memory 128m --memory-swap 256m %s "
	    ">/dev/null", name) == 0, "docker update by hand");
	ok(docker_container_inspect(d, id, &ins, &err) == 0, "inspect");
	is_int(container_drift(ins, body, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "docker update is drift");
	is_str(why, "HostConfig.Memory is 134217728, want 268435456", "why");
	json_decref(ins);

	ok(docker_container_rename(d, id, name2, &err) == 0, "rename");
	ok(docker_container_inspect(d, name, &ins, &err) == -1 &&
	    err.code == DOCKER_ENOTFOUND && err.http == 404,
	    "the old name is gone");
	{
		char *want = xasprintf("no such container: %s", name);

		is_str(err.msg, want, "not found message");
		free(want);
	}
	ok(docker_container_inspect(d, name2, &ins, &err) == 0 &&
	    strcmp(jstr(ins, "Name", NULL) + 1, name2) == 0, "the new name");
	json_decref(ins);

	ok(docker_container_wait(d, id, "not-running", 1, &status, &err) ==
	    -1 && err.code == DOCKER_ETIMEOUT, "wait on a running container "
	    "times out (%s)", err.msg);

	ok(docker_container_restart(d, id, 2, &err) == 0, "restart");
	ok(docker_container_stop(d, id, "SIGTERM", 2, &err) == 0,
	    "stop with signal and timeout (%s)", err.msg);
	ok(docker_container_stop(d, id, NULL, -1, &err) == 0,
	    "stop a stopped container: fine");
	ok(docker_container_inspect(d, id, &ins, &err) == 0 &&
	    !json_is_true(json_object_get(json_object_get(ins, "State"),
	    "Running")), "stopped");
	json_decref(ins);
	ok(docker_container_kill(d, id, NULL, &err) == -1 &&
	    err.code == DOCKER_ECONFLICT, "kill a stopped container: "
	    "conflict (%s)", err.msg);

	ok(docker_container_remove(d, id, 1, 1, &err) == 0, "remove");
	ok(docker_container_inspect(d, id, &ins, &err) == -1 &&
	    err.code == DOCKER_ENOTFOUND, "removed");
	ok(docker_container_remove(d, id, 1, 1, &err) == -1 &&
	    err.code == DOCKER_ENOTFOUND, "remove again: not found");
	ok(docker_container_start(d, "", &err) == -1 &&
	    err.code == DOCKER_ECONFIG, "empty id is refused");
	json_decref(body);
	buf_free(&out);
}

static void
test_stopped_by_hand(struct docker *d, const char *image)
{
	struct docker_error err;
	char id[DOCKER_ID_LEN], why[512], name[128];
	json_t *body = make_spec(image, "sleep 600", NULL, NULL), *ins = NULL;

	snprintf(name, sizeof(name), "%ssleeper", prefix);
	ok(docker_container_create(d, name, body, id, &err) == 0 &&
	    docker_container_start(d, id, &err) == 0, "start a sleeper");
	ok(sh(NULL, "docker stop -t 1 %s >/dev/null", name) == 0,
	    "docker stop by hand");
	ok(docker_container_inspect(d, id, &ins, &err) == 0, "inspect");
	is_int(container_drift(ins, body, why, sizeof(why)),
	    CONTAINER_DRIFT_STOPPED, "stopped by hand is drift");
	is_str(why, "the container is exited", "why");
	json_decref(ins);
	docker_container_remove(d, id, 1, 1, &err);
	json_decref(body);
}

static void
test_logs(struct docker *d, const char *image)
{
	struct docker_error err;
	char id[DOCKER_ID_LEN], name[128];
	struct buf out = BUF_INIT;
	long status = -1;
	json_t *body = make_spec(image, "sh -c 'echo err1 >&2; sleep 0.3; "
	    "echo out1; echo out2; echo out3; exit 3'", NULL, NULL);

	snprintf(name, sizeof(name), "%slogs", prefix);
	ok(docker_container_create(d, name, body, id, &err) == 0 &&
	    docker_container_start(d, id, &err) == 0, "start a talker");
	ok(docker_container_wait(d, id, NULL, 60, &status, &err) == 0,
	    "wait (%s)", err.msg);
	is_int(status, 3, "exit status from wait");
	ok(docker_container_logs(d, id, -1, &out, &err) == 0, "all logs");
	ok(strstr(out.s, "err1\n") && strstr(out.s, "out1\nout2\nout3\n"),
	    "stdout and stderr, demultiplexed");
	ok(memchr(out.s, '\0', out.len) == NULL && strchr(out.s, '\001') ==
	    NULL, "no frame headers left");
	buf_reset(&out);
	ok(docker_container_logs(d, id, 2, &out, &err) == 0, "tail 2");
	is_str(out.s, "out2\nout3\n", "the last two lines");
	docker_container_remove(d, id, 1, 1, &err);
	json_decref(body);

	/* a TTY container's log is raw, not framed */
	body = make_spec(image, "echo tty-line", "\"-t\"", NULL);
	snprintf(name, sizeof(name), "%stty", prefix);
	ok(docker_container_create(d, name, body, id, &err) == 0 &&
	    docker_container_start(d, id, &err) == 0, "start a tty talker");
	ok(docker_container_wait(d, id, NULL, 60, &status, &err) == 0 &&
	    status == 0, "wait");
	buf_reset(&out);
	ok(docker_container_logs(d, id, -1, &out, &err) == 0, "tty logs");
	is_str(out.s, "tty-line\r\n", "raw tty stream");
	docker_container_remove(d, id, 1, 1, &err);
	json_decref(body);
	buf_free(&out);
}

static void
test_demux(void)
{
	static const unsigned char frames[] = {
		1, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', '\n',
		2, 0, 0, 0, 0, 0, 0, 2, 'e', '\n',
	};
	struct buf out = BUF_INIT;

	ok(docker_logs_demux(frames, sizeof(frames), &out) == 0 &&
	    strcmp(out.s, "ab\ne\n") == 0, "demux two frames");
	buf_reset(&out);
	ok(docker_logs_demux(frames, sizeof(frames) - 1, &out) == -1,
	    "a cut frame is an error");
	ok(docker_logs_demux((const unsigned char *)"hello world", 11, &out) ==
	    -1, "raw text is not a frame");
	buf_free(&out);
}

static void
test_pull(struct docker *d, const char *image, const char *reg)
{
	struct docker_error err;
	char ref[256], bad[256], dom[64];
	json_t *ins = NULL;

	snprintf(ref, sizeof(ref), "%s/%spull:1", reg, prefix);
	ok(sh(NULL, "docker tag %s %s && docker push %s >/dev/null && "
	    "docker rmi %s >/dev/null", image, ref, ref, ref) == 0,
	    "push %s and forget it locally", ref);
	ok(docker_image_inspect(d, ref, &ins, &err) == -1 &&
	    err.code == DOCKER_ENOTFOUND, "not present locally");
	ins = NULL;
	ok(docker_image_probe(d, ref, &ins, &err) == 0 &&
	    json_is_object(json_object_get(ins, "Descriptor")),
	    "the registry knows it without a pull (%s)", err.msg);
	json_decref(ins);
	snprintf(bad, sizeof(bad), "%s/%spull:nope", reg, prefix);
	ok(docker_image_probe(d, bad, NULL, &err) == -1, "a missing tag: "
	    "the probe fails (%s)", err.msg);
	ok(docker_image_pull(d, ref, &err) == 0, "pull from the local "
	    "registry (%s)", err.msg);
	ok(docker_image_inspect(d, ref, &ins, &err) == 0, "now present");
	json_decref(ins);

	snprintf(bad, sizeof(bad), "%s/%spull:nope", reg, prefix);
	ok(docker_image_pull(d, bad, &err) == -1, "pulling a missing tag "
	    "fails");
	ok(strncmp(err.msg, "pulling ", 8) == 0 && strstr(err.msg, "nope"),
	    "message: %s", err.msg);

	/* a pull that fails after the HTTP 200: a layer is missing */
	{
		char broken[256];
		struct buf man = BUF_INIT;
		json_t *m, *layers;
		const char *dg;

		snprintf(broken, sizeof(broken), "%s/%sbroken:1", reg, prefix);
		ok(sh(NULL, "sh tests/docker.sh image %sbroken:1 "
		    "'RUN [\"/bin/sh\",\"-c\",\"echo %s >/unique\"]' && "
		    "docker tag %sbroken:1 %s && docker push %s >/dev/null && "
		    "docker rmi %s %sbroken:1 >/dev/null", prefix, prefix,
		    prefix, broken, broken, broken, prefix) == 0,
		    "push an image with a unique layer");
		sh(&man, "curl -fsS -H 'Accept: application/vnd.docker."
		    "distribution.manifest.v2+json' http://%s/v2/%sbroken/"
		    "manifests/1", reg, prefix);
		m = json_loads(man.s, 0, NULL);
		layers = json_object_get(m, "layers");
		dg = jstr(json_array_get(layers, json_array_size(layers) - 1),
		    "digest", NULL);
		ok(strncmp(dg, "sha256:", 7) == 0, "its last layer %.19s", dg);
		ok(sh(NULL, "rm /tmp/kom-test-docker/registry/data/docker/"
		    "registry/v2/blobs/sha256/%.2s/%s/data", dg + 7, dg + 7) == 0,
		    "delete the layer from the registry's storage");
		ok(docker_image_pull(d, broken, &err) == -1, "the pull fails");
		if (!ok(err.code == DOCKER_EFAILED && err.http == 200,
		    "reported as failed although the HTTP status was 200"))
			diag("code %d http %d: %s", err.code, err.http,
			    err.msg);
		ok(strncmp(err.msg, "pulling ", 8) == 0, "message: %s",
		    err.msg);
		json_decref(m);
		buf_free(&man);
	}
	{
		char domain[64];

		ok(docker_registry_domain(ref, dom, sizeof(dom)) == 0 &&
		    strcmp(dom, reg) == 0, "registry domain of %s", ref);
		docker_registry_domain("nginx:1", domain, sizeof(domain));
		is_str(domain, "docker.io", "docker hub image");
		docker_registry_domain("library/nginx", domain, sizeof(domain));
		is_str(domain, "docker.io", "docker hub path");
		docker_registry_domain("localhost/x", domain, sizeof(domain));
		is_str(domain, "localhost", "localhost");
		docker_registry_domain("ghcr.io/o/a:1", domain, sizeof(domain));
		is_str(domain, "ghcr.io", "ghcr.io");
		ok(docker_registry_domain("ghcr.io/o/a:1", domain, 4) == -1,
		    "too small a buffer");
	}
}

static void
test_auth(struct docker *d, const char *image)
{
	struct docker_error err;
	struct buf out = BUF_INIT;
	char areg[128] = "", user[64] = "", pass[64] = "", ref[256];
	char *cfgdir = xasprintf("%s/auth-config", tmpdir);
	char *nocfg = xasprintf("%s/no-config", tmpdir);
	char *mine = xasprintf("%s/my-config", tmpdir);
	char *hdr = NULL;

	if (sh(&out, "sh tests/docker.sh auth-registry") != 0 ||
	    sscanf(out.s, "%127s %63s %63s", areg, user, pass) != 3)
		bail("cannot start the registry with htpasswd auth");
	snprintf(ref, sizeof(ref), "%s/%sprivate:1", areg, prefix);
	ok(sh(NULL, "mkdir -p %s %s %s && printf %%s %s | DOCKER_CONFIG=%s "
	    "docker login -u %s --password-stdin %s >/dev/null 2>&1 && "
	    "docker tag %s %s && DOCKER_CONFIG=%s docker push %s >/dev/null "
	    "&& docker rmi %s >/dev/null", cfgdir, nocfg, mine, pass, cfgdir,
	    user, areg, image, ref, cfgdir, ref, ref) == 0,
	    "docker login and push to the registry with auth");

	setenv("DOCKER_CONFIG", nocfg, 1);
	ok(docker_registry_auth(areg, &hdr, &err) == 0 && hdr == NULL,
	    "no config.json: no credentials");
	ok(docker_image_pull(d, ref, &err) == -1, "pull without credentials "
	    "fails");
	ok(strstr(err.msg, pass) == NULL, "message: %s", err.msg);

	setenv("DOCKER_CONFIG", cfgdir, 1);
	ok(docker_registry_auth(areg, &hdr, &err) == 1 && hdr != NULL,
	    "the docker CLI's config.json has credentials");
	free(hdr);
	ok(docker_image_pull(d, ref, &err) == 0, "pull with X-Registry-Auth "
	    "(%s)", err.msg);
	sh(NULL, "docker rmi %s >/dev/null", ref);

	/* username/password form, and a key with scheme and path */
	{
		char *f = xasprintf("%s/config.json", mine);
		char *j = xasprintf("{\"auths\":{\"http://%s/v2/\":{\"username\":"
		    "\"%s\",\"password\":\"%s\"}}}", areg, user, pass);

		file_write_atomic(f, j, strlen(j), 0600);
		setenv("DOCKER_CONFIG", mine, 1);
		ok(docker_registry_auth(areg, &hdr, &err) == 1,
		    "username/password entry");
		{
			/* base64url of the JSON, decoded back */
			struct buf dec = BUF_INIT;

			sh(&dec, "printf %%s '%s' | tr '_-' '/+' | base64 -d",
			    hdr);
			ok(strstr(dec.s, "\"serveraddress\":\"") != NULL &&
			    strstr(dec.s, user) != NULL,
			    "X-Registry-Auth decodes to the credentials");
			buf_free(&dec);
		}
		free(hdr);
		ok(docker_image_pull(d, ref, &err) == 0, "pull with it (%s)",
		    err.msg);
		j[0] = '[';
		file_write_atomic(f, j, strlen(j), 0600);
		ok(docker_registry_auth(areg, &hdr, &err) == -1 &&
		    err.code == DOCKER_ECONFIG, "a broken config.json is an "
		    "error: %s", err.msg);
		ok(docker_image_pull(d, ref, &err) == -1 &&
		    err.code == DOCKER_ECONFIG, "and the pull says so");
		free(j);
		free(f);
	}
	sh(NULL, "docker rmi %s >/dev/null 2>&1; true", ref);
	unsetenv("DOCKER_CONFIG");
	free(cfgdir);
	free(nocfg);
	free(mine);
	buf_free(&out);
}

static void
test_networks(struct docker *d)
{
	struct docker_error err;
	json_t *n = NULL, *info = NULL;
	char name[128], *path;

	ok(docker_network_inspect(d, "host", &n, &err) == 0 &&
	    strcmp(jstr(n, "Driver", NULL), "host") == 0, "inspect host");
	json_decref(n);
	snprintf(name, sizeof(name), "%snet", prefix);
	ok(docker_network_inspect(d, name, &n, &err) == -1 &&
	    err.code == DOCKER_ENOTFOUND, "no such network");
	ok(docker_network_create(d, name, "bridge", &err) == 0, "create %s "
	    "(%s)", name, err.msg);
	ok(docker_network_inspect(d, name, &n, &err) == 0, "inspect it");
	json_decref(n);
	path = xasprintf("/networks/%s", name);
	ok(docker_request(d, "DELETE", path, NULL, NULL, &err) == 0,
	    "docker_request DELETE");
	free(path);
	{
		/* a label value with quotes and a backslash is a filter value,
		 * not JSON syntax */
		char *l = xasprintf("kom.test=%s\"x\\y", prefix);
		const char *labels[] = { l, NULL };
		json_t *ns = NULL, *nn = NULL;

		ok(docker_network_create(d, name, "bridge", &err) == 0,
		    "create it again");
		ok(docker_network_list(d, labels, &ns, &err) == 0 &&
		    json_array_size(ns) == 0, "network list by a label with "
		    "quotes (%s)", err.msg);
		json_decref(ns);
		ok(docker_network_inspect(d, name, &nn, &err) == 0 &&
		    docker_network_remove(d, jstr(nn, "Id", NULL), &err) == 0,
		    "docker_network_remove (%s)", err.msg);
		json_decref(nn);
		ok(docker_network_remove(d, name, &err) == -1 &&
		    err.code == DOCKER_ENOTFOUND, "gone");
		free(l);
	}
	ok(docker_request(d, "GET", "/info", NULL, &info, &err) == 0 &&
	    json_is_object(info), "docker_request GET /info");
	json_decref(info);
	ok(docker_request(d, "GET", "info", NULL, &info, &err) == -1 &&
	    err.code == DOCKER_ECONFIG, "a path without '/'");
}

int
main(int argc, char **argv)
{
	const char *t = getenv("KOM_TOP");
	struct docker_error err;
	struct docker *d;
	struct buf out = BUF_INIT;
	char image[128], *reg;

	if (t != NULL && *t != '\0') {
		snprintf(top, sizeof(top), "%s", t);
	} else {
		char *dir = file_dirname(argc > 0 ? argv[0] : ".");

		snprintf(top, sizeof(top), "%s/../..", dir);
		free(dir);
	}
	if (chdir(top) < 0)
		bail("cannot find the source tree (set KOM_TOP)");
	snprintf(prefix, sizeof(prefix), "ktl-%ld-", (long)getpid());
	snprintf(testid, sizeof(testid), "docker_live.%ld", (long)getpid());
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kom-docker-live.%ld",
	    (long)getpid());
	if (file_mkdir_p(tmpdir, 0755) < 0)
		bail("cannot make a temporary directory");
	/* the CLI that tests/docker.sh drives must not see a user's config */
	setenv("KOM_TEST_DOCKER_CONFIG", tmpdir, 1);

	test_unreachable();
	test_demux();
	if (sh(NULL, "sh tests/docker.sh up") != 0)
		bail("cannot bring up dockerd (tests/docker.sh up)");
	snprintf(image, sizeof(image), "kt-live:1");
	if (sh(NULL, "sh tests/docker.sh image %s", image) != 0)
		bail("cannot build the busybox test image");
	if (sh(&out, "sh tests/docker.sh registry") != 0)
		bail("cannot start docker-registry");
	chomp(&out);
	reg = buf_release(&out);

	test_version();
	setenv("KOM_ENGINE_TIMEOUT", "0", 1);
	ok(docker_open(&err) == NULL && err.code == DOCKER_ECONFIG &&
	    strstr(err.msg, "KOM_ENGINE_TIMEOUT") != NULL,
	    "a bad KOM_ENGINE_TIMEOUT: %s", err.msg);
	setenv("KOM_ENGINE_TIMEOUT", "7", 1);
	d = docker_open(&err);
	ok(d != NULL && docker_request_timeout(d) == 7 &&
	    docker_timeouts(d) == 0, "KOM_ENGINE_TIMEOUT=7");
	docker_close(d);
	unsetenv("KOM_ENGINE_TIMEOUT");
	d = docker_open(&err);
	if (d == NULL)
		bail(err.msg);
	test_lifecycle(d, image);
	test_stopped_by_hand(d, image);
	test_logs(d, image);
	test_pull(d, image, reg);
	test_auth(d, image);
	test_networks(d);
	docker_close(d);

	sh(NULL, "docker ps -aq --filter label=kom.test=%s | xargs -r docker "
	    "rm -f >/dev/null; docker images --format '{{.Repository}}:"
	    "{{.Tag}}' | grep '%s' | xargs -r docker rmi -f >/dev/null; "
	    "rm -rf %s", testid, prefix, tmpdir);
	free(reg);
	return done_testing();
}
