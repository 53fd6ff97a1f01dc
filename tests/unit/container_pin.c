/*
 * container_pin: the config hashes of a few specs, pinned.
 *
 * A running container carries kom.config-hash; if the same deployment
 * gave another hash after an upgrade of kom, every container would be
 * replaced.  The hashes below were computed by the container.c of main
 * at daf5611 (before it was split into container, runflags, runval and
 * container_drift); they must never change.  Beside each config hash the
 * sha256 of the body as sent to the engine (json_dumps compact, keys in
 * insertion order) pins the request itself.  The third spec uses every
 * docker run flag kom knows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "container.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

#define IMG "\"image\":{\"type\":\"Image\",\"params\":{\"image\":\"app:1\"}}"

static const struct pin {
	const char *what;
	const char *type, *sync, *image;	/* container_spec_opts */
	const char *config;
	const char *hash;	/* kom.config-hash */
	const char *body;	/* sha256 of the compact body */
} pins[] = {
	{ "an image alone", NULL, NULL, NULL, "{" IMG "}",
	    
	    "b67a522fdfc1aa19bdb962576f79e5e84b5dfcaa05c77ec4e81e064c0c91091a",
	    "8afe0f170747223716a1572c4cad206e3605c707481455ba1b4e5ee93b539ad8" },
	{ "every config field", NULL, "homelab", NULL, "{" IMG ","
	    "\"command\":\"nginx -g 'daemon off;'\","
	    "\"environment\":[{\"key\":\"A\",\"value\":\"1\"},"
	    "{\"key\":\"B\",\"value\":\"\\\"two words\\\"\"}],"
	    "\"labels\":[{\"key\":\"team\",\"value\":\"'web'\"}],"
	    "\"network\":\" backend\","
	    "\"ports\":[{\"local\":\"8080\",\"container\":\"80\"},"
	    "{\"local\":\"[::1]:5353\",\"container\":\"53/udp\"},"
	    "{\"local\":\"9000-9001\",\"container\":\"90-91\"}],"
	    "\"volumes\":[{\"local\":\"/srv/www\",\"container\":\"/html:ro\"},"
	    "{\"local\":\"\",\"container\":\"/cache\"},"
	    "{\"local\":\"data\",\"container\":\"/data\"}],"
	    "\"restart\":\"on-failure:4\","
	    "\"termination_signal\":\"SIGQUIT\",\"termination_timeout\":30}",
	    
	    "50f6e91c411cadcb2192ea60be4d7546f0668d5f17d4142be6d475077d60b0f2",
	    "34595fa06456ebf52c1cce2b4c1d8667c99ed54a18c2928bd141c21cdd2b576d" },
	{ "every docker run flag", "deployment", "s", NULL, "{" IMG ","
	    "\"network\":\"backend\",\"extra_args\":["
	    "\"--add-host=db:10.0.0.2\",\"--cap-add=NET_ADMIN\","
	    "\"--cap-drop ALL\",\"--cpu-period=100000\",\"--cpu-quota=-1\","
	    "\"-c 512\",\"--cpus=1.5\",\"--cpuset-cpus=0-1\","
	    "\"--cpuset-mems=0\",\"-d\",\"--device=/dev/sda:/dev/xvda:r\","
	    "\"--dns=1.1.1.1\",\"--dns-opt=edns0\",\"--dns-option ndots:2\","
	    "\"--dns-search=lan\",\"--domainname=example.org\","
	    "\"--entrypoint=/bin/sh\",\"-e X=1\",\"--env\",\"Y=a b\","
	    "\"--expose=7000-7001/udp\",\"--gpus=all\",\"--group-add=video\","
	    "\"--health-cmd\",\"curl -f localhost || exit 1\","
	    "\"--health-interval=30s\",\"--health-retries=3\","
	    "\"--health-start-period=1m30s\",\"--health-timeout=500ms\","
	    "\"-h web1\",\"--init\",\"-i\",\"--ip=172.20.0.5\",\"--ipc=host\","
	    "\"-l tier=front\",\"--label=q='x y'\",\"--log-driver=json-file\","
	    "\"--log-opt=max-size=10m\",\"-m 512m\","
	    "\"--memory-reservation=256m\",\"--memory-swap=-1\","
	    "\"--mount=type=bind,src=/srv,dst=/d,readonly\","
	    "\"--mount type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777\","
	    "\"--net=backend\",\"--network=backend\",\"--network-alias=api\","
	    "\"--oom-kill-disable\",\"--oom-score-adj=-500\",\"--pid=host\","
	    "\"--pids-limit=100\",\"--privileged=false\",\"-p 127.0.0.1:81:80\","
	    "\"-P\",\"--pull=always\",\"--read-only\",\"--restart=always\","
	    "\"--security-opt=no-new-privileges\",\"--shm-size=1g\","
	    "\"--stop-signal=SIGINT\",\"--stop-timeout=60\","
	    "\"--sysctl=net.core.somaxconn=1024\",\"--tmpfs=/run:size=1m\","
	    "\"-t\",\"--ulimit=nofile=1024:2048\",\"-u 1000:1000\","
	    "\"--userns=host\",\"--uts=host\",\"-v /a:/b:ro\",\"-w /app\"]}",
	    
	    "e92095b737c94b395bbca026d74a5c2f662036cc55758040c28af6ee6f6e1662",
	    "7b8e6a3ae5b58d4c417dd7e259f35ba41b44cf0f094b98ef6b5170dba9e153f6" },
	{ "no healthcheck, a Build image, extra labels", "deployment", NULL,
	    "registry.local/b:1.0.0",
	    "{\"image\":{\"type\":\"Build\",\"params\":{\"build\":\"b\"}},"
	    "\"extra_args\":[\"--no-healthcheck\",\"-it\"]}", 
	    "ab87526f960e512e54c1a5baf033bea6594f439118459499d89449e2504adc83",
	    "fb80080d3a3e8d53791301a0bf334584c2a50747b703cde233b53f840fff5fe9" },
};

static void
sha256_hex(const char *s, char out[CONTAINER_HASH_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int
main(void)
{
	for (size_t i = 0; i < KOM_NELEM(pins); i++) {
		const struct pin *p = &pins[i];
		json_error_t je;
		json_t *c = json_loads(p->config, 0, &je), *body = NULL,
		    *lab = json_pack("{s:s}", "kom.test", "pin");
		struct container_spec_opts o = { "web", p->type, p->sync,
		    p->image, i == 3 ? lab : NULL };
		char hash[CONTAINER_HASH_LEN] = "", bh[CONTAINER_HASH_LEN] = "",
		    err[2048] = "", *s;

		if (!ok(c != NULL, "%s: test config parses", p->what)) {
			diag("%s", je.text);
			json_decref(lab);
			continue;
		}
		if (!ok(container_spec(c, &o, &body, hash, err,
		    sizeof(err)) == 0, "%s: spec", p->what)) {
			diag("%s", err);
		} else {
			s = json_dumps(body, JSON_COMPACT);
			sha256_hex(s, bh);
			free(s);
		}
		is_str(hash, p->hash, "%s: config hash", p->what);
		is_str(bh, p->body, "%s: body", p->what);
		json_decref(body);
		json_decref(c);
		json_decref(lab);
	}
	return done_testing();
}
