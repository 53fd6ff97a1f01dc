/*
 * compose: the command lines kom builds for the compose CLI, the real CLI
 * run on a real compose file (`config` needs no engine), and the lines
 * of its output kept for a result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "file.h"
#include "proc.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

static void
test_cmdline(void)
{
	struct compose v2 = { { "docker", "compose", NULL }, 2, 0 };
	struct compose v1 = { { "docker-compose", NULL, NULL }, 1, 1 };
	const char *files[] = { "compose.yaml", "override.yaml", NULL };
	const char *envs[] = { ".env", "stack.env", NULL };
	const char *up[] = { "up", "-d", "--remove-orphans", NULL };
	struct compose_project p = { "web", "/srv/web", files, envs, 0 };
	struct compose_project bare = { "db", NULL, NULL, NULL, 0 };
	char *s;

	s = compose_cmdline(&v2, &p, up);
	is_str(s, "docker compose -p web -f compose.yaml -f override.yaml "
	    "--env-file .env --env-file stack.env up -d --remove-orphans",
	    "v2: project, files, env files (the stack's last), then args");
	free(s);
	s = compose_cmdline(&v1, &p, up);
	is_str(s, "docker-compose -p web -f compose.yaml -f override.yaml "
	    "--env-file .env --env-file stack.env up -d --remove-orphans",
	    "v1: the same after docker-compose");
	free(s);
	s = compose_cmdline(&v1, &bare, NULL);
	is_str(s, "docker-compose -p db", "no files, env files or args");
	free(s);
}

struct lines {
	struct buf b;
	int n;
};

static void
add(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;

	buf_printf(&l->b, "[%.*s]", (int)len, line);
	l->n++;
}

static void
last(const char *text, size_t n, const char *want, const char *what)
{
	struct lines l = { BUF_INIT, 0 };

	compose_last_lines(text, n, add, &l);
	is_str(l.b.s, want, "last %zu of %s", n, what);
	buf_free(&l.b);
}

static void
test_last_lines(void)
{
	last("", 5, "", "nothing");
	last("\n\n\n", 5, "", "blank lines");
	last("a\nb\nc\n", 2, "[b][c]", "three lines");
	last("a\nb\nc", 2, "[b][c]", "no final newline");
	last("a\nb\n", 5, "[a][b]", "fewer lines than asked");
	last("a\n\n\nb\n\n", 2, "[a][b]", "blank lines between");
	last("a\nb\n", 0, "", "none asked");
	last("Pulling web ... \rPulling web ... done\n", 1,
	    "[Pulling web ... done]", "a progress line redrawn with CR");
	last("Creating db ... done\r\n", 1, "[Creating db ... done]",
	    "a CRLF line");
}

/* A compose project in a fresh directory; its path. */
static char *
project(const char *yaml, const char *env)
{
	char tmpl[] = "/tmp/kom-compose-test.XXXXXX", *dir, *p;

	if (!mkdtemp(tmpl))
		return NULL;
	dir = xstrdup(tmpl);
	p = xasprintf("%s/compose.yaml", dir);
	file_write_atomic(p, yaml, strlen(yaml), 0644);
	free(p);
	p = xasprintf("%s/stack.env", dir);
	file_write_atomic(p, env, strlen(env), 0644);
	free(p);
	return dir;
}

static void
rm_rf(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	int st;

	proc_run(argv, NULL, &st);
}

static void
test_run(void)
{
	static const char yaml[] = "version: \"3\"\nservices:\n  web:\n"
	    "    image: \"kom-test/app:${TAG}\"\n  db:\n    image: db\n";
	const char *files[] = { "compose.yaml", NULL };
	const char *envs[] = { "stack.env", NULL };
	const char *services[] = { "config", "--services", NULL };
	const char *config[] = { "config", NULL };
	const char *version[] = { "version", NULL };
	struct compose c, none = { { "kom-no-such-compose", NULL, NULL }, 1,
	    1 };
	struct compose_project p = { "komtest", NULL, files, envs, 60000 };
	struct buf out = BUF_INIT;
	char *dir = project(yaml, "TAG=1.2\n");
	int st = -1;

	if (!ok(dir != NULL, "a project directory"))
		return;
	p.dir = dir;
	setenv("KOM_COMPOSE", "docker-compose", 1);
	if (!ok(compose_detect(&c) == 0 && c.v1 && c.argc == 1 &&
	    strcmp(c.argv[0], "docker-compose") == 0,
	    "KOM_COMPOSE=docker-compose: the stand-alone v1")) {
		rm_rf(dir);
		free(dir);
		return;
	}
	ok(compose_run(&c, &p, services, &out, &st) == 0 && st == 0,
	    "config --services runs in the project directory (%d)", st);
	ok(strstr(out.s, "web\n") != NULL && strstr(out.s, "db\n") != NULL,
	    "and names both services");
	buf_reset(&out);
	ok(compose_run(&c, &p, config, &out, &st) == 0 && st == 0,
	    "config runs");
	ok(strstr(out.s, "kom-test/app:1.2") != NULL,
	    "the env file's TAG is interpolated");
	buf_reset(&out);
	p.files = (const char *[]){ "missing.yaml", NULL };
	ok(compose_run(&c, &p, config, &out, &st) == 0 && st != 0,
	    "a missing compose file: the CLI fails (%d)", st);
	ok(out.len > 0, "and says why on the merged output");
	p.files = files;
	compose_free(&c);

	setenv("KOM_COMPOSE", "docker compose", 1);
	ok(compose_detect(&c) == 0 && !c.v1 && c.argc == 2 &&
	    strcmp(c.argv[0], "docker") == 0 &&
	    strcmp(c.argv[1], "compose") == 0,
	    "KOM_COMPOSE='docker compose': the plugin, not probed");
	compose_free(&c);

	unsetenv("KOM_COMPOSE");
	ok(compose_detect(&c) == 0, "detected without KOM_COMPOSE");
	buf_reset(&out);
	ok(compose_run(&c, &p, version, &out, &st) == 0 && st == 0,
	    "the detected CLI runs (%s)", c.v1 ? "v1" : "v2");
	compose_free(&c);

	buf_reset(&out);
	errno = 0;
	ok(compose_run(&none, &p, version, &out, &st) < 0 && errno == ENOENT &&
	    st == PROC_EXEC,
	    "a CLI that does not exist: -1, ENOENT, PROC_EXEC (%d)", st);
	buf_free(&out);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	test_cmdline();
	test_last_lines();
	test_run();
	return done_testing();
}
