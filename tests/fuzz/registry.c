/*
 * fuzz/registry: libFuzzer target for the parsers of lib/registry.h that
 * read what a registry (or a resource file) says: WWW-Authenticate
 * challenges and image references.
 *
 *	make tests/fuzz/registry
 *	tests/fuzz/registry -max_total_time=600 tests/fuzz/corpus/registry
 *
 * The input is one line.  Properties: a parsed challenge has a scheme of
 * 1 to 15 bytes without blanks; a parsed reference has a host, a
 * repository and a tag, none empty, and a reference without '@' is not
 * pinned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry_challenge c;
	struct registry_ref r;
	char *s;

	if (size > 8192 || memchr(data, '\0', size))
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (registry_challenge_parse(s, &c) == 0) {
		if (!*c.scheme || strlen(c.scheme) >= sizeof(c.scheme) ||
		    strpbrk(c.scheme, " \t"))
			abort();
		registry_challenge_free(&c);
	}
	if (registry_ref_parse(s, &r) == 0) {
		if (!r.host || !*r.host || !r.repo || !*r.repo || !r.tag ||
		    !*r.tag || (r.pinned && !strchr(s, '@')) ||
		    (!r.pinned && strchr(s, '@')))
			abort();
		registry_ref_free(&r);
	}
	free(s);
	return 0;
}
