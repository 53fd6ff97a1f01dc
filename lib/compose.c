#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

#define OUT_MAX (1u << 20)

static int
works(char *const *argv)
{
	struct proc_opts o;
	int status;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 30000;
	return proc_run(argv, &o, &status) == 0 && status == 0;
}

int
compose_detect(struct compose *c)
{
	const char *force = getenv("KOM_COMPOSE");
	char *v2[] = { "docker", "compose", "version", NULL };
	char *v1[] = { "docker-compose", "version", NULL };

	memset(c, 0, sizeof(*c));
	if (force && strcmp(force, "docker-compose") == 0)
		goto legacy;
	if ((force && strcmp(force, "docker compose") == 0) || works(v2)) {
		c->argv[0] = xstrdup("docker");
		c->argv[1] = xstrdup("compose");
		c->argc = 2;
		return 0;
	}
legacy:
	if (!works(v1))
		return -1;
	c->argv[0] = xstrdup("docker-compose");
	c->argc = 1;
	c->v1 = 1;
	return 0;
}

void
compose_free(struct compose *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	c->argc = 0;
}

/* The full argv: borrowed strings, in a fresh array. */
static const char **
build(const struct compose *c, const struct compose_project *p,
    const char *const *args)
{
	const char **v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < c->argc; i++) {
		KOM_GROW(v, n + 1, cap);
		v[n++] = c->argv[i];
	}
	KOM_GROW(v, n + 2, cap);
	v[n++] = "-p";
	v[n++] = p->project;
	for (i = 0; p->files && p->files[i]; i++) {
		KOM_GROW(v, n + 2, cap);
		v[n++] = "-f";
		v[n++] = p->files[i];
	}
	for (i = 0; p->env_files && p->env_files[i]; i++) {
		KOM_GROW(v, n + 2, cap);
		v[n++] = "--env-file";
		v[n++] = p->env_files[i];
	}
	for (i = 0; args && args[i]; i++) {
		KOM_GROW(v, n + 1, cap);
		v[n++] = args[i];
	}
	KOM_GROW(v, n + 1, cap);
	v[n] = NULL;
	return v;
}

int
compose_run(const struct compose *c, const struct compose_project *p,
    const char *const *args, struct buf *out, int *status)
{
	const char **argv = build(c, p, args);
	struct proc_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.cwd = p->dir;
	o.out = out;
	o.err = out;
	o.max = OUT_MAX;
	o.timeout_ms = p->timeout_ms;
	r = proc_run((char *const *)argv, &o, status);
	free(argv);
	return r;
}

char *
compose_cmdline(const struct compose *c, const struct compose_project *p,
    const char *const *args)
{
	const char **argv = build(c, p, args);
	struct buf b = BUF_INIT;

	for (size_t i = 0; argv[i]; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	free(argv);
	return buf_release(&b);
}

void
compose_last_lines(const char *text, size_t n,
    void (*add)(void *ctx, const char *line, size_t len), void *ctx)
{
	const char *end = text + strlen(text), *p = end;
	size_t got = 0;

	/* Walk back over n non-empty lines, then emit forwards. */
	while (p > text && got < n) {
		const char *q = p;

		while (q > text && q[-1] == '\n')
			q--;
		if (q == text)
			break;
		while (q > text && q[-1] != '\n')
			q--;
		p = q;
		got++;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *cr;

		if (len) {
			/* Progress bars redraw with \r: keep the last state. */
			cr = NULL;
			for (size_t i = 0; i < len; i++)
				if (p[i] == '\r' && i + 1 < len)
					cr = p + i;
			if (cr)
				add(ctx, cr + 1, len - (size_t)(cr + 1 - p));
			else
				add(ctx, p, len && p[len - 1] == '\r' ?
				    len - 1 : len);
		}
		p = nl ? nl + 1 : end;
	}
}
