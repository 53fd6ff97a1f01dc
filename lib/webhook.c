/* webhook: push webhooks' proofs and contents (webhook.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util.h"
#include "webhook.h"
#include "banned.h"

/* 64 hex digits (any case) into 32 bytes: 0, or -1. */
static int
unhex32(const char *s, unsigned char out[32])
{
	int hi, lo;
	size_t i;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = kom_hexval(tolower((unsigned char)s[2 * i]));
		lo = kom_hexval(tolower((unsigned char)s[2 * i + 1]));
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
check_hmac(const char *sig, const char *hname, const struct httpreq *rq,
    const char *secret, struct buf *err)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[32];
	unsigned int wlen = 0;

	if (!strncasecmp(sig, "sha256=", 7))
		sig += 7;
	if (unhex32(sig, got) < 0) {
		buf_printf(err, "%s is not 64 hex digits", hname);
		return -1;
	}
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)(rq->body ? rq->body : ""), rq->blen,
	    want, &wlen) || wlen != 32) {
		buf_adds(err, "HMAC-SHA256 failed");
		return -1;
	}
	if (CRYPTO_memcmp(want, got, 32)) {
		buf_printf(err, "%s does not match the body", hname);
		return -1;
	}
	return 0;
}

int
webhook_verify(enum webhook_provider p, const struct httpreq *rq,
    const char *secret, struct buf *err)
{
	static const char *const sig_github[] = { "X-Hub-Signature-256",
	    "X-Gitea-Signature", "X-Forgejo-Signature" };
	static const char *const sig_gitea[] = { "X-Gitea-Signature",
	    "X-Forgejo-Signature", "X-Hub-Signature-256" };
	const char *const *names = p == WEBHOOK_GITEA ? sig_gitea :
	    sig_github;
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	const char *v;
	size_t i;

	if (!secret || !*secret) {
		buf_adds(err, "no webhook secret is configured");
		return -1;
	}
	if (p == WEBHOOK_GITLAB) {
		if (!(v = httpreq_header(rq, "X-Gitlab-Token"))) {
			buf_adds(err, "no X-Gitlab-Token header");
			return -1;
		}
		SHA256((const unsigned char *)v, strlen(v), a);
		SHA256((const unsigned char *)secret, strlen(secret), b);
		if (CRYPTO_memcmp(a, b, sizeof(a))) {
			buf_adds(err, "X-Gitlab-Token does not match");
			return -1;
		}
		return 0;
	}
	for (i = 0; i < 3; i++)
		if ((v = httpreq_header(rq, names[i])))
			return check_hmac(v, names[i], rq, secret, err);
	buf_printf(err, "no %s header", names[0]);
	return -1;
}

char *
webhook_event(const struct httpreq *rq)
{
	static const char *const hdr[] = { "X-GitHub-Event", "X-Gitlab-Event",
	    "X-Gitea-Event", "X-Forgejo-Event" };
	const char *v = NULL;
	char *s;
	size_t i, n;

	for (i = 0; i < KOM_NELEM(hdr) && !v; i++)
		v = httpreq_header(rq, hdr[i]);
	if (!v)
		return xstrdup("push");
	s = xstrdup(v);
	for (i = 0; s[i]; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	n = strlen(s);
	if (n > 5 && !strcmp(s + n - 5, " hook"))
		s[n - 5] = '\0';
	return s;
}

static char *
dup_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths the commits added, modified or removed: sorted, unique. */
static void
changed_paths(const json_t *root, struct webhook_push *p)
{
	static const char *const keys[] = { "added", "modified", "removed" };
	const json_t *commits = json_object_get(root, "commits"), *c, *l;
	const char **v = NULL;
	size_t i, j, k, n = 0, cap = 0;

	for (i = 0; i < json_array_size(commits); i++) {
		c = json_array_get(commits, i);
		for (k = 0; k < KOM_NELEM(keys); k++) {
			l = json_object_get(c, keys[k]);
			for (j = 0; j < json_array_size(l); j++) {
				const char *s = json_string_value(
				    json_array_get(l, j));

				if (!s)
					continue;
				KOM_GROW(v, n + 1, cap);
				v[n++] = s;
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		if (json_array_size(p->changed) == WEBHOOK_MAX_CHANGED) {
			p->truncated = 1;
			break;
		}
		json_array_append_new(p->changed, json_string(v[i]));
	}
	free(v);
}

int
webhook_push_parse(const char *body, size_t len, struct webhook_push *p,
    struct buf *err)
{
	json_error_t je;
	json_t *root, *repo;
	const char *ref;

	memset(p, 0, sizeof(*p));
	p->changed = json_array();
	if (!(root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je))) {
		buf_printf(err, "body is not JSON: %d:%d: %s", je.line,
		    je.column, je.text);
		return -1;
	}
	if (!(ref = json_string_value(json_object_get(root, "ref")))) {
		buf_adds(err, "body has no \"ref\"");
		json_decref(root);
		return -1;
	}
	p->ref = xstrdup(ref);
	p->branch = xstrdup(!strncmp(ref, "refs/heads/", 11) ? ref + 11 :
	    ref);
	p->before = dup_str(root, "before");
	p->after = dup_str(root, "after");
	/* GitHub and Gitea: repository.full_name; GitLab:
	 * project.path_with_namespace */
	repo = json_object_get(root, "repository");
	if (!(p->repo = dup_str(repo, "full_name")))
		p->repo = dup_str(json_object_get(root, "project"),
		    "path_with_namespace");
	changed_paths(root, p);
	json_decref(root);
	return 0;
}

void
webhook_push_free(struct webhook_push *p)
{
	free(p->ref);
	free(p->branch);
	free(p->before);
	free(p->after);
	free(p->repo);
	json_decref(p->changed);
	memset(p, 0, sizeof(*p));
}
