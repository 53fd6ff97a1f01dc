/*
 * webhook: what a git host's push webhook proves and says (kom-poll(1)
 * "webhook"; komodo-behaviour.md 7.3, 7.4).
 *
 * Proof: GitHub signs the raw body, X-Hub-Signature-256: sha256=HEX,
 * HEX = HMAC-SHA256(secret, body); Gitea and Forgejo send the same HMAC
 * bare in X-Gitea-Signature (X-Forgejo-Signature), and newer ones the
 * GitHub header too; GitLab sends the secret itself in X-Gitlab-Token.
 * Every comparison here takes the same time whatever the bytes (OpenSSL's
 * CRYPTO_memcmp over the digests; a token is hashed first, so that its
 * length does not show either), unlike Komodo's string compare.
 *
 * Content: the push's ref, before, after, the repository's name and the
 * paths its commits touched, from the JSON body (at most the caller's
 * body cap, parsed by jansson; fuzzed: tests/fuzz/webhook.c).
 *
 * Functions return 0 or -1 with the reason in err (nothing printed).
 */
#ifndef KOM_WEBHOOK_H
#define KOM_WEBHOOK_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "httpreq.h"

enum webhook_provider {
	WEBHOOK_GITHUB,		/* /listener/github/... (Gitea too) */
	WEBHOOK_GITLAB,		/* /listener/gitlab/... */
	WEBHOOK_GITEA		/* /listener/gitea/..., /listener/forgejo/... */
};

#define WEBHOOK_MAX_CHANGED 1000	/* paths kept from one push */

/* Whether rq carries a valid proof of secret for provider. */
int webhook_verify(enum webhook_provider p, const struct httpreq *rq,
    const char *secret, struct buf *err);

/*
 * The event's kind from the provider's event header, lowercased and
 * without GitLab's " Hook" ("push", "ping", "tag push"); "push" when no
 * such header came (a hook sent by hand, as komodo#1137).  Fresh string.
 */
char *webhook_event(const struct httpreq *rq);

struct webhook_push {
	char *ref;		/* "refs/heads/main" */
	char *branch;		/* "main" (ref without refs/heads/) */
	char *before, *after;	/* NULL when absent */
	char *repo;		/* "owner/name", NULL when absent */
	json_t *changed;	/* sorted unique paths (array), never NULL */
	int truncated;		/* more than WEBHOOK_MAX_CHANGED */
};

/* Read a push body; -1 when it is not JSON or has no string "ref". */
int webhook_push_parse(const char *body, size_t len, struct webhook_push *p,
    struct buf *err);
void webhook_push_free(struct webhook_push *p);

#endif
