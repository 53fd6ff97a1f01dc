/*
 * fuzz/resource: libFuzzer target for the resource layer, the parser of
 * Komodo resource files (TOML through lib/toml, then schema checks,
 * normalization, references, [[VARIABLES]]).
 *
 *	make fuzz
 *	sh tests/fuzz/run 300 tests/fuzz/resource
 *
 * The seeds in tests/fuzz/corpus/resource came from the .toml files under
 * tests/fixtures/sync and share/examples, grown and merged by libFuzzer.
 * Every document must give
 * records or diagnostics without crashing, leaking or tripping the
 * sanitizers, and every record must be an object with a type and a name
 * that jansson can encode.  The check-only load (validate, diff's first
 * pass: records cut down, lists checked and not built) must say exactly
 * what the whole load says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the diagnostics of a load, one after another */
struct said {
	char *s;
	size_t n;
};

static void
quiet(void *ctx, int is_error, const char *line)
{
	struct said *d = ctx;
	size_t len = strlen(line);
	char *t = realloc(d->s, d->n + len + 3);

	if (!t)
		abort();
	d->s = t;
	d->s[d->n++] = is_error ? 'E' : 'W';
	memcpy(d->s + d->n, line, len);
	d->n += len;
	d->s[d->n++] = '\n';
	d->s[d->n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tags[] = { "prod" };
	struct resource_opts o;
	struct said full = { NULL, 0 }, lean = { NULL, 0 };
	json_t *recs, *r;
	size_t i;
	char *s;
	long errs, errs_lean;

	memset(&o, 0, sizeof(o));
	o.diag = quiet;
	o.diag_ctx = &full;
	o.secrets_dir = "/nonexistent";
	/* both selections: pull mode and tags, on alternate inputs */
	if (size && (data[0] & 1)) {
		o.server = "host1";
		o.match_tags = tags;
		o.nmatch_tags = 1;
	}
	errs = resource_load_mem("fuzz.toml", (const char *)data, size, &o,
	    &recs);
	if (!json_is_array(recs))
		abort();
	json_array_foreach(recs, i, r) {
		if (!json_is_object(r) ||
		    !json_string_value(json_object_get(r, "type")) ||
		    !json_string_value(json_object_get(r, "name")))
			abort();
		if (!errs && !(s = json_dumps(r, JSON_COMPACT)))
			abort();	/* a valid file's record must encode */
		else if (!errs)
			free(s);
	}
	json_decref(recs);

	/* check only: the same errors and the same words */
	o.check_only = 1;
	o.diag_ctx = &lean;
	errs_lean = resource_load_mem("fuzz.toml", (const char *)data, size,
	    &o, &recs);
	json_decref(recs);
	if (errs_lean != errs || full.n != lean.n ||
	    (full.n && memcmp(full.s, lean.s, full.n)))
		abort();
	free(full.s);
	free(lean.s);
	return 0;
}
