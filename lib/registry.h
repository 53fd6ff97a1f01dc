/*
 * registry: the digest behind an image tag, from the registry itself
 * (Registry HTTP API v2; kom-poll images, komodo-behaviour.md 5.6).
 *
 *	HEAD /v2/REPO/manifests/TAG
 *	Accept: the OCI index and manifest, Docker's manifest list and v2
 *	-> Docker-Content-Digest: sha256:...
 *
 * A 401 names its scheme in WWW-Authenticate: Basic is answered with
 * config.json's credentials for the registry; Bearer realm=,service=,
 * scope= with a token fetched from realm (with those credentials when
 * there are some).  Loopback registries (localhost, 127.*, ::1) are
 * spoken to over http, others over https, as Docker does without
 * insecure-registries.  Everything read is capped (headers, token
 * bodies) and every request has the caller's timeout.
 *
 * Functions return 0, or -1 with the reason in err; nothing is printed.
 */
#ifndef KOM_REGISTRY_H
#define KOM_REGISTRY_H

#include "buf.h"

struct registry_challenge {
	char scheme[16];	/* "Bearer", "Basic" */
	char *realm, *service, *scope;	/* NULL when absent */
};

/* Parse one WWW-Authenticate value (fuzzed: tests/fuzz/registry.c). */
int registry_challenge_parse(const char *hdr, struct registry_challenge *c);
void registry_challenge_free(struct registry_challenge *c);

struct registry_ref {
	char *host;		/* "registry-1.docker.io", "reg.lan:5000" */
	char *domain;		/* for config.json: "docker.io", "reg.lan:5000" */
	char *repo;		/* "library/nginx" */
	char *tag;		/* "latest" when none */
	int pinned;		/* written with @sha256:... */
};

int registry_ref_parse(const char *image, struct registry_ref *r);
void registry_ref_free(struct registry_ref *r);

/*
 * The digest of image's tag, fresh in *digest ("sha256:...").  A registry
 * that asks for a login gets config.json's for its domain, else login
 * ("USERNAME:TOKEN" of a kom.toml account, gitcfg_registry_account();
 * NULL: none).
 */
int registry_digest(const char *image, const char *login, long timeout_ms,
    char **digest, struct buf *err);

#endif
