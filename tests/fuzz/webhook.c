/*
 * fuzz/webhook: libFuzzer target for lib/webhook.h, the push bodies and
 * signatures kom-poll webhook takes from git hosts:
 *
 *	make tests/fuzz/webhook
 *	tests/fuzz/webhook -max_total_time=600 tests/fuzz/corpus/webhook
 *
 * The input is a body.  Properties: webhook_push_parse() gives a ref and
 * a branch, and changed paths that are sorted, unique and capped; a
 * GitHub signature made here over the body verifies, the same with one
 * digit changed or over the body with a byte more does not, and a GitLab
 * token verifies only when equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
verify(enum webhook_provider p, const char *hname, const char *hval,
    const char *body, size_t blen, const char *secret)
{
	struct httpreq rq;
	struct httpreq_header h;
	struct buf err = BUF_INIT;
	int rc;

	memset(&rq, 0, sizeof(rq));
	h.name = (char *)hname;
	h.value = (char *)hval;
	rq.h = &h;
	rq.nh = 1;
	rq.body = (char *)body;
	rq.blen = blen;
	rc = webhook_verify(p, &rq, secret, &err);
	buf_free(&err);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_push p;
	struct buf err = BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen;
	char hex[65], sig[72], *body;
	size_t i;

	if (size > 65536)
		return 0;
	if (webhook_push_parse((const char *)data, size, &p, &err) == 0) {
		if (!p.ref || !p.branch ||
		    json_array_size(p.changed) > WEBHOOK_MAX_CHANGED)
			abort();
		for (i = 1; i < json_array_size(p.changed); i++)
			if (strcmp(json_string_value(json_array_get(p.changed,
			    i - 1)), json_string_value(json_array_get(
			    p.changed, i))) >= 0)
				abort();
	}
	webhook_push_free(&p);
	buf_free(&err);

	body = malloc(size + 1);
	memcpy(body, data, size);
	body[size] = 'x';
	HMAC(EVP_sha256(), "k", 1, data, size, mac, &mlen);
	kom_hex(mac, 32, hex);
	memcpy(sig, "sha256=", 7);
	memcpy(sig + 7, hex, 65);
	if (verify(WEBHOOK_GITHUB, "X-Hub-Signature-256", sig, body, size,
	    "k") != 0 || verify(WEBHOOK_GITEA, "X-Gitea-Signature", hex,
	    body, size, "k") != 0)
		abort();
	if (verify(WEBHOOK_GITHUB, "X-Hub-Signature-256", sig, body,
	    size + 1, "k") == 0)
		abort();
	sig[7 + (size % 64)] = sig[7 + (size % 64)] == '0' ? '1' : '0';
	if (verify(WEBHOOK_GITHUB, "X-Hub-Signature-256", sig, body, size,
	    "k") == 0)
		abort();
	body[size] = '\0';
	if (size && !memchr(data, '\0', size)) {
		if (verify(WEBHOOK_GITLAB, "X-Gitlab-Token", body, "", 0,
		    body) != 0)
			abort();
		if ((verify(WEBHOOK_GITLAB, "X-Gitlab-Token", body, "", 0,
		    "k") == 0) != (strcmp(body, "k") == 0))
			abort();
	}
	free(body);
	return 0;
}
