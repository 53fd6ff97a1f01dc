/*
 * fuzz/known_hosts: libFuzzer target for kgit_known_host() (lib/git.h),
 * the one parser of outside text in lib/git:
 *
 *	make tests/fuzz/known_hosts
 *	tests/fuzz/known_hosts -max_total_time=600 -timeout=5 /tmp/corpus
 *
 * The input is a host name line, then known_hosts text.  The key is the
 * first 32 bytes of the text (or fewer).  Properties: the answer is -1, 0
 * or 1; and once a plain line "HOST ssh-ed25519 BASE64(KEY)" is appended,
 * the answer is never 0 (1, or -1 when an earlier line revokes the key).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *host, *text, b64[64];
	size_t hlen, tlen, klen, n;
	int k;

	if (!nl || size > 65536)
		return 0;
	hlen = (size_t)(nl - data);
	if (!hlen || memchr(data, '\0', hlen) || memchr(data, ' ', hlen) ||
	    memchr(data, '\t', hlen) || memchr(data, ',', hlen) ||
	    data[0] == '|' || data[0] == '#' || data[0] == '@')
		return 0;
	host = strndup((const char *)data, hlen);
	tlen = size - hlen - 1;
	klen = tlen < 32 ? tlen : 32;
	if (!klen) {
		free(host);
		return 0;
	}
	k = kgit_known_host((const char *)nl + 1, tlen, host, nl + 1, klen);
	if (k < -1 || k > 1)
		abort();
	/* the text up to its first NUL, a newline, then a matching line */
	n = strnlen((const char *)nl + 1, tlen);
	text = malloc(n + hlen + sizeof(b64) + 32);
	memcpy(text, nl + 1, n);
	EVP_EncodeBlock((unsigned char *)b64, nl + 1, (int)klen);
	n += (size_t)snprintf(text + n, hlen + sizeof(b64) + 32,
	    "\n%s ssh-ed25519 %s\n", host, b64);
	k = kgit_known_host(text, n, host, nl + 1, klen);
	if (k == 0)
		abort();
	free(text);
	free(host);
	return 0;
}
