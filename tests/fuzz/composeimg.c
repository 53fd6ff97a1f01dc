/*
 * fuzz/composeimg: libFuzzer target for lib/composeimg.h, the compose
 * YAML kom-poll images reads from stacks' repositories:
 *
 *	make tests/fuzz/composeimg
 *	tests/fuzz/composeimg -max_total_time=600 tests/fuzz/corpus/composeimg
 *
 * The input is a compose file.  Properties: every service found has an
 * image; an image written without '$' comes out as written; the
 * interpolation of each raw image again gives the same image (it is a
 * function of the text and the environment).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "composeimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
env(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	if (n == 1 && *name == 'A')
		return "a";
	if (n == 1 && *name == 'E')
		return "";
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct composeimg *v;
	struct buf err = BUF_INIT, again = BUF_INIT;
	size_t n, i;

	if (size > 65536)
		return 0;
	if (composeimg_parse("f", (const char *)data, size, env, NULL, &v, &n,
	    &err) == 0) {
		for (i = 0; i < n; i++) {
			if (!v[i].service || !v[i].image || !v[i].raw)
				abort();
			if (!strchr(v[i].raw, '$') &&
			    strcmp(v[i].raw, v[i].image))
				abort();
			buf_reset(&again);
			if (composeimg_interp(v[i].raw, strlen(v[i].raw), env,
			    NULL, &again, &err) != 0 ||
			    strcmp(again.s, v[i].image))
				abort();
		}
		composeimg_free(v, n);
	}
	buf_free(&err);
	buf_free(&again);
	return 0;
}
