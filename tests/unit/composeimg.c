/* Unit tests for lib/composeimg.c: compose's interpolation, images. */
#include <stdlib.h>
#include <string.h>

#include "composeimg.h"
#include "tap.h"
#include "banned.h"

/* TAG=2 EMPTY= REG=reg.lan:5000; nothing else is set */
static const char *
env(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	if (n == 3 && !memcmp(name, "TAG", 3))
		return "2";
	if (n == 5 && !memcmp(name, "EMPTY", 5))
		return "";
	if (n == 3 && !memcmp(name, "REG", 3))
		return "reg.lan:5000";
	return NULL;
}

static void
interp_is(const char *in, const char *want)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = composeimg_interp(in, strlen(in), env, NULL, &out, &err);

	is_str(rc == 0 ? out.s : err.s, want, "interp '%s'", in);
	buf_free(&out);
	buf_free(&err);
}

int
main(void)
{
	struct composeimg *v;
	struct buf err = BUF_INIT;
	size_t n;
	const char *y;

	interp_is("nginx:${TAG}", "nginx:2");
	interp_is("nginx:$TAG", "nginx:2");
	interp_is("$REG/web:${TAG}", "reg.lan:5000/web:2");
	interp_is("web:${NOPE}", "web:");
	interp_is("web:${NOPE:-1.25}", "web:1.25");
	interp_is("web:${EMPTY:-1.25}", "web:1.25");
	interp_is("web:${EMPTY-1.25}", "web:");
	interp_is("web:${NOPE-1.25}", "web:1.25");
	interp_is("web:${NOPE:-${TAG}}", "web:2");
	interp_is("web:${TAG:+set}", "web:set");
	interp_is("web:${EMPTY:+set}", "web:");
	interp_is("web:${EMPTY+set}", "web:set");
	interp_is("a$$b", "a$b");
	interp_is("$${TAG}", "${TAG}");
	interp_is("web:${NOPE:?give a tag}",
	    "required variable NOPE is missing a value: give a tag");
	interp_is("web:${EMPTY?x}", "web:");
	interp_is("web:${TAG", "unterminated '${' in 'web:${TAG'");
	interp_is("web:$", "invalid interpolation: a lone '$' in 'web:$' (write $$)");
	interp_is("web:${1X}", "invalid interpolation '${1X}'");

	y = "version: '3'\n"
	    "x-base: &base\n"
	    "  image: busybox:${TAG}\n"
	    "services:\n"
	    "  web:\n"
	    "    image: \"${REG}/web:${NOPE:-latest}\"\n"
	    "  built:\n"
	    "    build: .\n"
	    "  db:\n"
	    "    <<: *base\n"
	    "    image: postgres:16@sha256:0000\n"
	    "  side: *base\n";
	is_int(composeimg_parse("c.yaml", y, strlen(y), env, NULL, &v, &n,
	    &err), 0, "parse: ok");
	is_int((long)n, 3, "parse: three services with an image");
	if (n == 3) {
		is_str(v[0].service, "web", "web first");
		is_str(v[0].image, "reg.lan:5000/web:latest", "web's image");
		is_str(v[0].raw, "${REG}/web:${NOPE:-latest}", "web's raw");
		is_int(v[0].line, 6, "web's line");
		is_str(v[1].image, "postgres:16@sha256:0000", "db: its own");
		is_str(v[2].service, "side", "side through an alias");
		is_str(v[2].image, "busybox:2", "side's image");
	}
	composeimg_free(v, n);

	y = "services:\n  web:\n    image: [a]\n";
	is_int(composeimg_parse("c.yaml", y, strlen(y), env, NULL, &v, &n,
	    &err), -1, "an image that is a list");
	is_str(err.s, "c.yaml:3:12: service 'web': image is not a string",
	    "  the message");
	buf_reset(&err);
	y = "services:\n  web:\n    image: x:${NOPE?}\n";
	composeimg_parse("c.yaml", y, strlen(y), env, NULL, &v, &n, &err);
	is_str(err.s, "c.yaml:3:12: service 'web': required variable NOPE "
	    "is missing a value", "a required variable");
	buf_reset(&err);
	y = "services:\n  web:\n    image: \"${A:-x\\0}\"\n";
	is_int(composeimg_parse("c.yaml", y, strlen(y), env, NULL, &v, &n,
	    &err), -1, "an image holding a NUL byte (YAML \\0)");
	is_str(err.s, "c.yaml:3:12: service 'web': image holds a NUL byte",
	    "  the message");
	buf_reset(&err);
	y = "services: [\n";
	is_int(composeimg_parse("c.yaml", y, strlen(y), env, NULL, &v, &n,
	    &err), -1, "bad YAML");
	diag("%s", err.s);
	buf_reset(&err);
	is_int(composeimg_parse("c.yaml", "", 0, env, NULL, &v, &n, &err), 0,
	    "empty file");
	is_int((long)n, 0, "  no image");
	buf_free(&err);
	return done_testing();
}
