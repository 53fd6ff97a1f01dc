/* container: deployment config -> create body, extra_args, hash, drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "container.h"
#include "container_drift.h"
#include "runflags.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

/* The value at a dotted path ("HostConfig.Memory") as compact JSON. */
static char *
at(const json_t *j, const char *path)
{
	char *p = xstrdup(path), *q = p, *k;
	char *s;

	while (j != NULL && (k = strsep(&q, ".")) != NULL)
		j = json_object_get(j, k);
	free(p);
	if (j == NULL)
		return xstrdup("(missing)");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return s;
}

static json_t *
cfg(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL) {
		diag("bad test json: %s: %s", je.text, text);
		exit(2);
	}
	return j;
}

static json_t *
spec(const char *config, char *err, size_t errlen, char *hash)
{
	json_t *c = cfg(config), *body = NULL;
	struct container_spec_opts o = { "web", NULL, "homelab", NULL, NULL };

	err[0] = '\0';
	if (container_spec(c, &o, &body, hash, err, errlen) < 0)
		body = NULL;
	json_decref(c);
	return body;
}

/* One extra_args case: args (JSON array), path, expected JSON there. */
static void
xcase(const char *args, const char *path, const char *want)
{
	char *conf = xasprintf("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"x\"}},\"extra_args\":%s}", args);
	char err[2048];
	json_t *b = spec(conf, err, sizeof(err), NULL);
	char *got = b ? at(b, path) : xstrdup(err);

	if (!ok(b != NULL && strcmp(got, want) == 0, "extra_args %s -> %s",
	    args, path))
		diag("got %s, want %s", got, want);
	free(got);
	json_decref(b);
	free(conf);
}

/* extra_args that must fail with a message starting with want. */
static void
xfail(const char *args, const char *want)
{
	char *conf = xasprintf("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"x\"}},\"extra_args\":%s}", args);
	char err[2048];
	json_t *b = spec(conf, err, sizeof(err), NULL);

	if (!ok(b == NULL && strncmp(err, want, strlen(want)) == 0,
	    "extra_args %s fails", args))
		diag("got '%s', want '%s...'", b ? "(success)" : err, want);
	json_decref(b);
	free(conf);
}

/* A config field case: config fragment, path, expected JSON. */
static void
fcase(const char *frag, const char *path, const char *want)
{
	char *conf = xasprintf("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"x\"}},%s}", frag);
	char err[1024];
	json_t *b = spec(conf, err, sizeof(err), NULL);
	char *got = b ? at(b, path) : xstrdup(err);

	if (!ok(b != NULL && strcmp(got, want) == 0, "%s -> %s", frag, path))
		diag("got %s, want %s", got, want);
	free(got);
	json_decref(b);
	free(conf);
}

static void
ffail(const char *frag, const char *want)
{
	char *conf = xasprintf("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"x\"}},%s}", frag);
	char err[1024];
	json_t *b = spec(conf, err, sizeof(err), NULL);

	if (!ok(b == NULL && strcmp(err, want) == 0, "%s fails", frag))
		diag("got '%s', want '%s'", b ? "(success)" : err, want);
	json_decref(b);
	free(conf);
}

static void
test_full(void)
{
	static const char conf[] = "{"
	    "\"image\":{\"type\":\"Image\",\"params\":{\"image\":\"nginx:1.27\"}},"
	    "\"command\":\"nginx -g 'daemon off;'\","
	    "\"environment\":[{\"key\":\"A\",\"value\":\"1\"},"
	    "{\"key\":\"B\",\"value\":\"\\\"two words\\\"\"},"
	    "{\"key\":\"C\",\"value\":\"'x'\"},{\"key\":\"D\",\"value\":\"$HOME\"},"
	    "{\"key\":\"E\",\"value\":\"\\\"half'\"}],"
	    "\"labels\":[{\"key\":\"team\",\"value\":\"web\"}],"
	    "\"network\":\"\","
	    "\"ports\":[{\"local\":\"8080\",\"container\":\"80\"}],"
	    "\"volumes\":[{\"local\":\"/srv/www\",\"container\":\"/usr/share/nginx/html:ro\"}],"
	    "\"restart\":\"on-failure\","
	    "\"termination_signal\":\"SIGQUIT\",\"termination_timeout\":30,"
	    "\"extra_args\":[]}";
	static const char want[] = "{\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],"
	    "\"Env\":[\"A=1\",\"B=two words\",\"C=x\",\"D=$HOME\",\"E=\\\"half'\"],"
	    "\"ExposedPorts\":{\"80/tcp\":{}},"
	    "\"HostConfig\":{\"Binds\":[\"/srv/www:/usr/share/nginx/html:ro\"],"
	    "\"NetworkMode\":\"host\","
	    "\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},"
	    "\"RestartPolicy\":{\"MaximumRetryCount\":10,\"Name\":\"on-failure\"}},"
	    "\"Image\":\"nginx:1.27\","
	    "\"Labels\":{\"kom.config-hash\":\"HASH\",\"kom.managed\":\"true\","
	    "\"kom.name\":\"web\",\"kom.sync\":\"homelab\",\"kom.type\":\"deployment\","
	    "\"team\":\"web\"},"
	    "\"StopSignal\":\"SIGQUIT\",\"StopTimeout\":30}";
	char err[512], hash[CONTAINER_HASH_LEN], hash2[CONTAINER_HASH_LEN];
	json_t *b = spec(conf, err, sizeof(err), hash), *b2;
	char *got, *w;

	ok(b != NULL, "full config maps (%s)", err);
	if (b == NULL)
		return;
	got = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	w = xstrdup(want);
	{
		char *p = strstr(w, "HASH"), *nw;

		*p = '\0';
		nw = xasprintf("%s%s%s", w, hash, p + 4);
		free(w);
		w = nw;
	}
	if (!ok(strcmp(got, w) == 0, "full body"))
		diag("got  %s\nwant %s", got, w);
	is_int(strlen(hash), 64, "hash is 64 hex digits");
	ok(container_hash(b, hash2) == 0, "container_hash");
	is_str(hash2, hash, "hash of the body ignores its own hash label");
	free(got);
	free(w);

	b2 = spec(conf, err, sizeof(err), hash2);
	is_str(hash2, hash, "same input, same hash");
	json_decref(b2);
	{
		char *c2 = xstrdup(conf), *p = strstr(c2, "\"value\":\"1\"");

		p[9] = '2';
		b2 = spec(c2, err, sizeof(err), hash2);
		ok(b2 != NULL && strcmp(hash2, hash) != 0,
		    "an environment value change changes the hash");
		json_decref(b2);
		free(c2);
	}
	{
		json_t *c = cfg(conf), *b3 = NULL;
		struct container_spec_opts o = { "web", NULL, "other", NULL,
		    NULL };

		container_spec(c, &o, &b3, hash2, err, sizeof(err));
		ok(strcmp(hash2, hash) != 0, "the sync label is in the hash");
		json_decref(b3);
		json_decref(c);
	}
	json_decref(b);
}

static void
test_fields(void)
{
	char err[512];
	json_t *b;

	/* image */
	ffail("\"image\":{\"type\":\"Image\",\"params\":{\"image\":\" \"}}",
	    "image: no image name");
	ffail("\"image\":{\"type\":\"Build\",\"params\":{\"build\":\"b\"}}",
	    "image: a 'Build' image must be resolved to an image name first");
	{
		json_t *c = cfg("{\"image\":{\"type\":\"Build\",\"params\":"
		    "{\"build\":\"b\",\"version\":\"1.0.0\"}}}");
		struct container_spec_opts o = { "app", "deployment", NULL,
		    "registry.local/b:1.0.0", NULL };

		b = NULL;
		ok(container_spec(c, &o, &b, NULL, err, sizeof(err)) == 0,
		    "a Build image resolved by the caller");
		is_str(json_string_value(json_object_get(b, "Image")),
		    "registry.local/b:1.0.0", "resolved image used");
		ok(json_object_get(json_object_get(b, "Labels"), "kom.sync") ==
		    NULL, "no sync: no kom.sync label");
		json_decref(b);
		json_decref(c);
	}
	/* command */
	fcase("\"command\":\"\"", "Cmd", "(missing)");
	fcase("\"command\":\"  \"", "Cmd", "(missing)");
	fcase("\"command\":\"echo $HOME `id`\"", "Cmd",
	    "[\"echo\",\"$HOME\",\"`id`\"]");
	ffail("\"command\":\"echo 'oops\"",
	    "command: unterminated single quote at offset 5");
	ffail("\"command\":\"a && b\"", "command: unquoted '&' needs a "
	    "shell (quote it, or run sh -c '...') at offset 2");
	/* environment and labels */
	fcase("\"environment\":[]", "Env", "[]");
	fcase("\"environment\":[{\"key\":\"K\",\"value\":\"a=b\"}]", "Env",
	    "[\"K=a=b\"]");
	fcase("\"environment\":[{\"key\":\"K\",\"value\":\"\\\"\"}]", "Env",
	    "[\"K=\\\"\"]");
	fcase("\"environment\":[{\"key\":\"K\",\"value\":\"''\"}]", "Env",
	    "[\"K=\"]");
	ffail("\"environment\":[{\"key\":\"\",\"value\":\"x\"}]",
	    "environment[0]: empty key");
	ffail("\"environment\":\"A=1\"", "environment: expected an array of "
	    "{\"key\",\"value\"}");
	fcase("\"labels\":[{\"key\":\"tier\",\"value\":\"'q'\"}]",
	    "Labels.tier", "\"q\"");
	ffail("\"labels\":[{\"key\":\"kom.name\",\"value\":\"x\"}]",
	    "label 'kom.name': the kom. prefix is reserved for kom's own "
	    "labels");
	/* network */
	fcase("\"network\":\"host\"", "HostConfig.NetworkMode", "\"host\"");
	fcase("\"network\":\"backend\"", "HostConfig.NetworkMode",
	    "\"backend\"");
	/* restart */
	fcase("\"restart\":\"no\"", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":0,\"Name\":\"no\"}");
	fcase("\"restart\":\"always\"", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":0,\"Name\":\"always\"}");
	fcase("\"restart\":\"unless-stopped\"", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":0,\"Name\":\"unless-stopped\"}");
	fcase("\"restart\":\"on-failure:3\"", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":3,\"Name\":\"on-failure\"}");
	ffail("\"restart\":\"sometimes\"", "restart 'sometimes': expected no, "
	    "on-failure, always or unless-stopped");
	/* termination */
	fcase("\"termination_signal\":\"SIGINT\"", "StopSignal", "\"SIGINT\"");
	fcase("\"termination_timeout\":0", "StopTimeout", "0");
	fcase("\"command\":\"\"", "StopTimeout", "10");
	fcase("\"command\":\"\"", "StopSignal", "\"SIGTERM\"");
	ffail("\"termination_timeout\":\"10\"", "termination_timeout: "
	    "expected a number of seconds");
	/* ports */
	fcase("\"ports\":[{\"local\":\"127.0.0.1:8080\",\"container\":\"80\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}]}");
	fcase("\"ports\":[{\"local\":\"8080-8081\",\"container\":\"80-81\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
	    "\"81/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8081\"}]}");
	fcase("\"ports\":[{\"local\":\"8080-8090\",\"container\":\"80\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080-8090\"}]}");
	fcase("\"ports\":[{\"local\":\"53\",\"container\":\"53/udp\"}]",
	    "ExposedPorts", "{\"53/udp\":{}}");
	fcase("\"ports\":[{\"local\":\"\",\"container\":\"80\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
	fcase("\"ports\":[{\"local\":\"[::1]:8080\",\"container\":\"80\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}]}");
	fcase("\"ports\":[{\"local\":\"8080\",\"container\":\"80\"},"
	    "{\"local\":\"8443\",\"container\":\"80\"}]",
	    "HostConfig.PortBindings",
	    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"},"
	    "{\"HostIp\":\"\",\"HostPort\":\"8443\"}]}");
	ffail("\"ports\":[{\"local\":\"8080\",\"container\":\"http\"}]",
	    "ports[0]: port '8080:http': bad container port 'http'");
	ffail("\"ports\":[{\"local\":\"70000\",\"container\":\"80\"}]",
	    "ports[0]: port '70000:80': bad host port '70000'");
	ffail("\"ports\":[{\"local\":\"8080-8082\",\"container\":\"80-81\"}]",
	    "ports[0]: port '8080-8082:80-81': host and container ranges "
	    "differ in length");
	ffail("\"ports\":[{\"local\":\"80\",\"container\":\"80/icmp\"}]",
	    "ports[0]: port '80:80/icmp': unknown protocol 'icmp' (tcp, udp, "
	    "sctp)");
	/* volumes */
	fcase("\"volumes\":[{\"local\":\"data\",\"container\":\"/var/lib\"}]",
	    "HostConfig.Binds", "[\"data:/var/lib\"]");
	fcase("\"volumes\":[{\"local\":\"/a\",\"container\":\"/b:rw\"}]",
	    "HostConfig.Binds", "[\"/a:/b:rw\"]");
	fcase("\"volumes\":[{\"local\":\"/a\",\"container\":\"/b:ro,z\"}]",
	    "HostConfig.Binds", "[\"/a:/b:ro,z\"]");
	fcase("\"volumes\":[{\"local\":\"\",\"container\":\"/cache\"}]",
	    "Volumes", "{\"/cache\":{}}");
	ffail("\"volumes\":[{\"local\":\"./data\",\"container\":\"/d\"}]",
	    "volumes[0]: volume './data:/d': a host path must be absolute");
	ffail("\"volumes\":[{\"local\":\"/a\",\"container\":\"b\"}]",
	    "volumes[0]: volume '/a:b': the container path must be absolute");
	ffail("\"volumes\":[{\"local\":\"/a\",\"container\":\"/b:rx\"}]",
	    "volumes[0]: volume '/a:/b:rx': unknown option 'rx'");
	ffail("\"ports\":{}", "ports: expected an array of "
	    "{\"local\",\"container\"}");

	/* container_name */
	{
		json_t *c = cfg("{\"custom_name\":\"  web-blue \"}");
		char *n = container_name(c, "web");

		is_str(n, "web-blue", "custom_name trimmed");
		free(n);
		json_decref(c);
		c = cfg("{\"custom_name\":\"\"}");
		n = container_name(c, "web");
		is_str(n, "web", "empty custom_name: the resource name");
		free(n);
		json_decref(c);
	}
}

static void
test_extra_args(void)
{
	xcase("[\"--memory=512m\"]", "HostConfig.Memory", "536870912");
	xcase("[\"--memory 512m\"]", "HostConfig.Memory", "536870912");
	xcase("[\"--memory\",\"1g\"]", "HostConfig.Memory", "1073741824");
	xcase("[\"-m\",\"64k\"]", "HostConfig.Memory", "65536");
	xcase("[\"-m64k\"]", "HostConfig.Memory", "65536");
	xcase("[\"-m=64k\"]", "HostConfig.Memory", "65536");
	xcase("[\"--memory-reservation=256m\"]",
	    "HostConfig.MemoryReservation", "268435456");
	xcase("[\"--memory-swap=-1\"]", "HostConfig.MemorySwap", "-1");
	xcase("[\"--memory-swap 1g\"]", "HostConfig.MemorySwap",
	    "1073741824");
	xcase("[\"--cpus=1.5\"]", "HostConfig.NanoCpus", "1500000000");
	xcase("[\"--cpu-shares=512\"]", "HostConfig.CpuShares", "512");
	xcase("[\"-c\",\"256\"]", "HostConfig.CpuShares", "256");
	xcase("[\"--cpuset-cpus=0-1\"]", "HostConfig.CpusetCpus", "\"0-1\"");
	xcase("[\"--cpuset-mems=0\"]", "HostConfig.CpusetMems", "\"0\"");
	xcase("[\"--cpu-period=100000\"]", "HostConfig.CpuPeriod", "100000");
	xcase("[\"--cpu-quota=50000\"]", "HostConfig.CpuQuota", "50000");
	xcase("[\"--user=1000:1000\"]", "User", "\"1000:1000\"");
	xcase("[\"-u\",\"nobody\"]", "User", "\"nobody\"");
	xcase("[\"--workdir=/app\"]", "WorkingDir", "\"/app\"");
	xcase("[\"-w /srv\"]", "WorkingDir", "\"/srv\"");
	xcase("[\"--entrypoint=/bin/sh\"]", "Entrypoint", "[\"/bin/sh\"]");
	xcase("[\"--hostname=web1\"]", "Hostname", "\"web1\"");
	xcase("[\"-h\",\"web2\"]", "Hostname", "\"web2\"");
	xcase("[\"--domainname=example.org\"]", "Domainname",
	    "\"example.org\"");
	xcase("[\"--cap-add=NET_ADMIN\",\"--cap-add SYS_TIME\"]",
	    "HostConfig.CapAdd", "[\"NET_ADMIN\",\"SYS_TIME\"]");
	xcase("[\"--cap-drop=ALL\"]", "HostConfig.CapDrop", "[\"ALL\"]");
	xcase("[\"--device=/dev/fuse\"]", "HostConfig.Devices",
	    "[{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":\"/dev/fuse\","
	    "\"PathOnHost\":\"/dev/fuse\"}]");
	xcase("[\"--device=/dev/sda:/dev/xvda:r\"]", "HostConfig.Devices",
	    "[{\"CgroupPermissions\":\"r\",\"PathInContainer\":\"/dev/xvda\","
	    "\"PathOnHost\":\"/dev/sda\"}]");
	xcase("[\"--add-host=db:10.0.0.2\",\"--add-host\",\"cache=10.0.0.3\"]",
	    "HostConfig.ExtraHosts", "[\"db:10.0.0.2\",\"cache:10.0.0.3\"]");
	xcase("[\"--dns=1.1.1.1\"]", "HostConfig.Dns", "[\"1.1.1.1\"]");
	xcase("[\"--dns-search=lan\"]", "HostConfig.DnsSearch", "[\"lan\"]");
	xcase("[\"--dns-option=ndots:2\",\"--dns-opt=edns0\"]",
	    "HostConfig.DnsOptions", "[\"ndots:2\",\"edns0\"]");
	xcase("[\"--log-driver=json-file\",\"--log-opt\",\"max-size=10m\","
	    "\"--log-opt=max-file=3\"]", "HostConfig.LogConfig",
	    "{\"Config\":{\"max-file\":\"3\",\"max-size\":\"10m\"},"
	    "\"Type\":\"json-file\"}");
	xcase("[\"--health-cmd\",\"wget -q -O- http://localhost/ || exit 1\","
	    "\"--health-interval=30s\",\"--health-timeout=1m30s\","
	    "\"--health-retries=3\",\"--health-start-period=500ms\"]",
	    "Healthcheck", "{\"Interval\":30000000000,\"Retries\":3,"
	    "\"StartPeriod\":500000000,\"Test\":[\"CMD-SHELL\","
	    "\"wget -q -O- http://localhost/ || exit 1\"],"
	    "\"Timeout\":90000000000}");
	xcase("[\"--health-cmd 'curl -f localhost'\"]", "Healthcheck.Test",
	    "[\"CMD-SHELL\",\"curl -f localhost\"]");
	xcase("[\"--no-healthcheck\"]", "Healthcheck", "{\"Test\":[\"NONE\"]}");
	xcase("[\"--init\"]", "HostConfig.Init", "true");
	xcase("[\"--init=false\"]", "HostConfig.Init", "false");
	xcase("[\"--read-only\"]", "HostConfig.ReadonlyRootfs", "true");
	xcase("[\"--tmpfs=/run\",\"--tmpfs /tmp:rw,size=64m\"]",
	    "HostConfig.Tmpfs", "{\"/run\":\"\",\"/tmp\":\"rw,size=64m\"}");
	xcase("[\"--ulimit=nofile=1024:2048\",\"--ulimit nproc=512\"]",
	    "HostConfig.Ulimits", "[{\"Hard\":2048,\"Name\":\"nofile\","
	    "\"Soft\":1024},{\"Hard\":512,\"Name\":\"nproc\",\"Soft\":512}]");
	xcase("[\"--shm-size=1g\"]", "HostConfig.ShmSize", "1073741824");
	xcase("[\"--privileged\"]", "HostConfig.Privileged", "true");
	xcase("[\"--security-opt=no-new-privileges\"]",
	    "HostConfig.SecurityOpt", "[\"no-new-privileges\"]");
	xcase("[\"--sysctl=net.core.somaxconn=1024\"]", "HostConfig.Sysctls",
	    "{\"net.core.somaxconn\":\"1024\"}");
	xcase("[\"--pids-limit=100\"]", "HostConfig.PidsLimit", "100");
	xcase("[\"--oom-kill-disable\"]", "HostConfig.OomKillDisable", "true");
	xcase("[\"--oom-score-adj=-500\"]", "HostConfig.OomScoreAdj", "-500");
	xcase("[\"--stop-signal=SIGINT\"]", "StopSignal", "\"SIGINT\"");
	xcase("[\"--stop-timeout=60\"]", "StopTimeout", "60");
	xcase("[\"--label=tier=front\",\"-l\",\"empty\"]", "Labels.tier",
	    "\"front\"");
	xcase("[\"-l\",\"empty\"]", "Labels.empty", "\"\"");
	xcase("[\"--env=X=1\",\"-e\",\"Y=a b\",\"-e Z=3\"]", "Env",
	    "[\"X=1\",\"Y=a b\",\"Z=3\"]");
	xcase("[\"--publish=9090:90\"]", "HostConfig.PortBindings",
	    "{\"90/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9090\"}]}");
	xcase("[\"-p 127.0.0.1:5353:53/udp\"]", "HostConfig.PortBindings",
	    "{\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}]}");
	xcase("[\"-P\"]", "HostConfig.PublishAllPorts", "true");
	xcase("[\"--expose=7000-7001/udp\"]", "ExposedPorts",
	    "{\"7000/udp\":{},\"7001/udp\":{}}");
	xcase("[\"--volume=/a:/b:ro\",\"-v\",\"named:/c\"]",
	    "HostConfig.Binds", "[\"/a:/b:ro\",\"named:/c\"]");
	xcase("[\"--mount=type=bind,src=/srv,dst=/data,readonly\"]",
	    "HostConfig.Mounts", "[{\"ReadOnly\":true,\"Source\":\"/srv\","
	    "\"Target\":\"/data\",\"Type\":\"bind\"}]");
	xcase("[\"--mount\",\"type=volume,source=v1,target=/v\"]",
	    "HostConfig.Mounts", "[{\"Source\":\"v1\",\"Target\":\"/v\","
	    "\"Type\":\"volume\"}]");
	xcase("[\"--mount type=tmpfs,destination=/t,tmpfs-size=64m\"]",
	    "HostConfig.Mounts", "[{\"Target\":\"/t\",\"TmpfsOptions\":"
	    "{\"SizeBytes\":67108864},\"Type\":\"tmpfs\"}]");
	xcase("[\"--network=backend\"]", "HostConfig.NetworkMode",
	    "\"backend\"");
	xcase("[\"--net\",\"none\"]", "HostConfig.NetworkMode", "\"none\"");
	xcase("[\"--network=backend\",\"--network-alias=api\","
	    "\"--ip=172.20.0.5\"]", "NetworkingConfig.EndpointsConfig",
	    "{\"backend\":{\"Aliases\":[\"api\"],\"IPAMConfig\":"
	    "{\"IPv4Address\":\"172.20.0.5\"}}}");
	xcase("[\"--restart=always\"]", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":0,\"Name\":\"always\"}");
	xcase("[\"--restart on-failure:5\"]", "HostConfig.RestartPolicy",
	    "{\"MaximumRetryCount\":5,\"Name\":\"on-failure\"}");
	xcase("[\"--group-add=video\"]", "HostConfig.GroupAdd", "[\"video\"]");
	xcase("[\"--ipc=host\"]", "HostConfig.IpcMode", "\"host\"");
	xcase("[\"--pid=host\"]", "HostConfig.PidMode", "\"host\"");
	xcase("[\"--userns=host\"]", "HostConfig.UsernsMode", "\"host\"");
	xcase("[\"--uts=host\"]", "HostConfig.UTSMode", "\"host\"");
	xcase("[\"--gpus=all\"]", "HostConfig.DeviceRequests",
	    "[{\"Capabilities\":[[\"gpu\"]],\"Count\":-1,\"Driver\":\"\"}]");
	xcase("[\"--pull=always\"]", "Image", "\"x\"");
	xcase("[\"-t\",\"-i\"]", "Tty", "true");
	xcase("[\"-it\"]", "OpenStdin", "true");
	xcase("[\"-ti\"]", "Tty", "true");
	xcase("[\"--tty\"]", "Tty", "true");
	xcase("[\"--interactive\"]", "OpenStdin", "true");
	xcase("[\"-d\"]", "Image", "\"x\"");
	xcase("[\"--memory 512m --cpus 2\"]", "HostConfig.NanoCpus",
	    "2000000000");
	xcase("[\"  \"]", "HostConfig.Memory", "(missing)");

	xfail("[\"--frobnicate\"]", "extra_args: unsupported flag "
	    "'--frobnicate' (supported: --add-host --cap-add");
	xfail("[\"--frobnicate=1\"]", "extra_args: unsupported flag "
	    "'--frobnicate' (supported:");
	xfail("[\"-Z\"]", "extra_args: unsupported flag '-Z' in '-Z' "
	    "(supported:");
	xfail("[\"--name=x\"]", "extra_args: --name is not supported: the "
	    "container name comes from the deployment");
	xfail("[\"--rm\"]", "extra_args: --rm is not supported");
	xfail("[\"--platform=linux/arm64\"]", "extra_args: --platform is not "
	    "supported");
	xfail("[\"--memory=lots\"]", "extra_args: --memory 'lots': bad size "
	    "(e.g. 512m, 1g)");
	xfail("[\"--memory=12x\"]", "extra_args: --memory '12x': bad size");
	xfail("[\"-m\"]", "extra_args: -m needs a value");
	xfail("[\"--memory\"]", "extra_args: --memory needs a value");
	xfail("[\"--cpus=many\"]", "extra_args: --cpus 'many': bad number of "
	    "cpus");
	xfail("[\"--health-interval=30\"]", "extra_args: --health-interval "
	    "'30': bad duration");
	xfail("[\"--health-retries=x\"]", "extra_args: --health-retries 'x': "
	    "bad number");
	xfail("[\"--no-healthcheck\",\"--health-cmd=true\"]", "extra_args: "
	    "--no-healthcheck conflicts with the --health-* options");
	xfail("[\"--init=maybe\"]", "extra_args: --init 'maybe': expected "
	    "true or false");
	xfail("[\"-e\",\"SECRET\"]", "extra_args: -e SECRET: a variable "
	    "without a value would copy kom-exec's own environment");
	xfail("[\"--label=kom.managed=false\"]", "extra_args: --label: label "
	    "'kom.managed': the kom. prefix is reserved");
	xfail("[\"--gpus=2\"]", "extra_args: --gpus '2': only --gpus all is "
	    "supported");
	xfail("[\"--network-alias=x\"]", "extra_args: --network-alias and "
	    "--ip need a user-defined network, not 'host'");
	xfail("[\"--mount=type=nfs,dst=/x\"]", "extra_args: --mount "
	    "'type=nfs,dst=/x': type must be bind, volume or tmpfs");
	xfail("[\"--mount=type=bind,dst=/x\"]", "extra_args: --mount "
	    "'type=bind,dst=/x': a bind mount needs a source");
	xfail("[\"--mount=type=bind,src=/a,dst=/x,color=red\"]", "extra_args: "
	    "--mount 'type=bind,src=/a,dst=/x,color=red': unknown or "
	    "incomplete option 'color'");
	xfail("[\"--ulimit=nofile\"]", "extra_args: --ulimit 'nofile': "
	    "expected name=soft[:hard]");
	xfail("[\"--device=sda\"]", "extra_args: --device 'sda': expected "
	    "/host/path");
	xfail("[\"--workdir=app\"]", "extra_args: --workdir 'app': the "
	    "working directory must be absolute");
	xfail("[\"-p\",\"x:80\"]", "extra_args: -p: port 'x:80': bad host "
	    "port 'x'");
	xfail("[\"-v\",\"rel/dir:/x\"]", "extra_args: -v: volume "
	    "'rel/dir:/x': 'rel/dir' is neither an absolute path nor a "
	    "volume name");
	xfail("[\"--restart=sometimes\"]", "extra_args: --restart: restart "
	    "'sometimes'");
	xfail("[\"nginx\"]", "extra_args: 'nginx' is not a flag");
	xfail("[\"--memory '512m\"]", "extra_args[0]: unterminated single "
	    "quote");
	xfail("[\"--pull=sometimes\"]", "extra_args: --pull 'sometimes': "
	    "expected always, missing or never");
	xfail("[1]", "extra_args[0]: expected a string");
}

static void
test_drift(void)
{
	char err[512], why[512];
	json_t *b = spec("{\"image\":{\"type\":\"Image\",\"params\":"
	    "{\"image\":\"app:1\"}},\"command\":\"run\",\"environment\":"
	    "[{\"key\":\"PASSWORD\",\"value\":\"hunter2\"}],"
	    "\"ports\":[{\"local\":\"8080\",\"container\":\"80\"}],"
	    "\"restart\":\"always\"}", err, sizeof(err), NULL);
	json_t *ins, *v;
	char *cmd;

	if (!ok(b != NULL, "drift body (%s)", err))
		return;
	/* What the engine would answer for a container made from b. */
	ins = json_pack("{s:{s:O,s:O,s:O,s:O},s:O,s:{s:b,s:s}}",
	    "Config", "Image", json_object_get(b, "Image"),
	    "Cmd", json_object_get(b, "Cmd"),
	    "Env", json_object_get(b, "Env"),
	    "Labels", json_object_get(b, "Labels"),
	    "HostConfig", json_object_get(b, "HostConfig"),
	    "State", "Running", 1, "Status", "running");
	ins = json_deep_copy(v = ins);
	json_decref(v);
	/* the image adds its own env and labels; docker fills defaults */
	json_array_append_new(json_object_get(json_object_get(ins, "Config"),
	    "Env"), json_string("PATH=/bin"));
	json_object_set_new(json_object_get(json_object_get(ins, "Config"),
	    "Labels"), "maintainer", json_string("x"));
	json_object_set_new(json_object_get(ins, "HostConfig"), "Memory",
	    json_integer(0));
	json_object_set_new(json_object_get(ins, "HostConfig"), "PidsLimit",
	    json_null());

	is_int(container_drift(ins, b, why, sizeof(why)), CONTAINER_DRIFT_NONE,
	    "a matching container has no drift");
	is_str(why, "", "no reason");

	json_object_set_new(json_object_get(ins, "HostConfig"), "Memory",
	    json_integer(268435456));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "docker update --memory is drift");
	is_str(why, "HostConfig.Memory is 268435456, want null", "why");
	json_object_set_new(json_object_get(ins, "HostConfig"), "Memory",
	    json_integer(0));

	json_object_set_new(json_object_get(json_object_get(ins, "HostConfig"),
	    "RestartPolicy"), "Name", json_string("no"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "docker update --restart is drift");
	is_str(why, "restart policy is no:0, want always:0", "why");
	json_object_set_new(json_object_get(json_object_get(ins, "HostConfig"),
	    "RestartPolicy"), "Name", json_string("always"));

	v = json_object_get(json_object_get(ins, "Config"), "Env");
	json_array_set_new(v, 0, json_string("PASSWORD=changed"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "an environment change is drift");
	is_str(why, "environment variable PASSWORD differs",
	    "why names the variable, not its value");
	ok(strstr(why, "hunter2") == NULL && strstr(why, "changed") == NULL,
	    "no secret in the reason");
	json_array_set_new(v, 0, json_string("PASSWORD=hunter2"));

	cmd = at(ins, "Config.Image");
	json_object_set_new(json_object_get(ins, "Config"), "Image",
	    json_string("app:2"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "another image is drift");
	is_str(why, "image is 'app:2', want 'app:1'", "why");
	json_object_set_new(json_object_get(ins, "Config"), "Image",
	    json_string("app:1"));
	free(cmd);

	json_object_set_new(json_object_get(json_object_get(ins, "Config"),
	    "Labels"), "kom.config-hash", json_string("0123456789abcdef"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_CHANGED, "another hash is drift");
	ok(strncmp(why, "config hash 0123456789ab differs from the "
	    "deployment's", 53) == 0, "why: %s", why);
	json_object_set(json_object_get(json_object_get(ins, "Config"),
	    "Labels"), "kom.config-hash", json_object_get(json_object_get(b,
	    "Labels"), "kom.config-hash"));

	json_object_set_new(json_object_get(ins, "State"), "Running",
	    json_false());
	json_object_set_new(json_object_get(ins, "State"), "Status",
	    json_string("exited"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_STOPPED, "a stopped container");
	is_str(why, "the container is exited", "why");
	is_str(container_drift_name(CONTAINER_DRIFT_STOPPED), "stopped",
	    "drift name");

	json_object_set_new(json_object_get(json_object_get(ins, "Config"),
	    "Labels"), "kom.managed", json_string("false"));
	is_int(container_drift(ins, b, why, sizeof(why)),
	    CONTAINER_DRIFT_UNMANAGED, "an unmanaged container");
	is_int(container_drift(NULL, b, why, sizeof(why)),
	    CONTAINER_DRIFT_REMOVED, "a missing container");
	is_str(container_drift_name(CONTAINER_DRIFT_REMOVED), "removed",
	    "drift name");
	ok(container_drift_name(CONTAINER_DRIFT_NONE) == NULL,
	    "no drift has no name");
	json_decref(ins);
	json_decref(b);
}

int
main(void)
{
	test_full();
	test_fields();
	test_extra_args();
	test_drift();
	return done_testing();
}
