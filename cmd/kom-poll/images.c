/*
 * kom-poll images -l: the images kom would watch for new digests
 *
 * For each deployment and stack of the syncs with poll_for_updates or
 * auto_update, one JSON line with the image reference as it will be
 * pulled: a deployment's image, and for a stack each service of its
 * compose files (lib/composeimg: libyaml and compose's interpolation,
 * from the environment, the stack's environment and its env file).  No
 * registry is asked.  See kom-poll(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "composeimg.h"
#include "config.h"
#include "docker.h"
#include "file.h"
#include "jsonl.h"
#include "paths.h"
#include "poll.h"
#include "gitcfg.h"
#include "registry.h"
#include "secrets.h"
#include "spool.h"
#include "util.h"
#include "banned.h"

static const char usage[] = "usage: kom-poll images [-a | -l]";

/* The variables compose sees: the process environment first, then the
 * stack's environment, then its env file (KEY=VALUE lines). */
struct vars {
	const json_t *environment;	/* [{"key","value"}] */
	json_t *file;			/* key -> value */
	char *tmp;
};

static const char *
lookup(void *ctx, const char *name, size_t n)
{
	struct vars *v = ctx;
	const json_t *e;
	const char *s;
	size_t i;

	free(v->tmp);
	v->tmp = xstrndup(name, n);
	if ((s = getenv(v->tmp)))
		return s;
	for (i = json_array_size(v->environment); i-- > 0;) {
		e = json_array_get(v->environment, i);
		if (!strcmp(jsonl_str(e, "key", ""), v->tmp))
			return jsonl_str(e, "value", "");
	}
	return json_string_value(json_object_get(v->file, v->tmp));
}

static void
read_env_file(const char *path, json_t *into)
{
	struct buf b = BUF_INIT;
	char *line, *nl, *eq, *k, *val;
	size_t n;

	if (file_read(path, &b, 1u << 20) < 0) {
		buf_free(&b);
		return;
	}
	for (line = b.s; *line; line = nl ? nl + 1 : line + strlen(line)) {
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!strncmp(line, "export ", 7))
			line += 7;
		if (*line == '#' || !(eq = strchr(line, '=')))
			continue;
		for (k = eq; k > line && (k[-1] == ' ' || k[-1] == '\t'); k--)
			;
		*k = '\0';
		val = eq + 1;
		n = strlen(val);
		while (n && (val[n - 1] == '\r' || val[n - 1] == ' '))
			val[--n] = '\0';
		if (n >= 2 && (val[0] == '"' || val[0] == '\'') &&
		    val[n - 1] == val[0]) {
			val[n - 1] = '\0';
			val++;
		}
		json_object_set_new(into, line, json_string(val));
	}
	buf_free(&b);
}


/* One stack's services; the number of errors. */
static long
stack_images(const json_t *rec, const char *sync, const char *source,
    json_t *found)
{
	const json_t *c = json_object_get(rec, "config"), *fp, *skip;
	const char *name = jsonl_str(rec, "name", "");
	const char *dir = jsonl_str(c, "run_directory", "");
	const char *contents = jsonl_str(c, "file_contents", "");
	struct vars v;
	struct buf data = BUF_INIT, err = BUF_INIT;
	struct composeimg *im;
	char *path, *envp;
	size_t i, j, n, nfiles;
	long errors = 0;
	json_t *o;

	if (!*contents && *jsonl_str(c, "repo", "") &&
	    !json_is_true(json_object_get(c, "files_on_host"))) {
		kom_warn("%s: stack '%s': its compose files are in git: not "
		    "listed yet", source, name);
		return 0;
	}
	memset(&v, 0, sizeof(v));
	v.environment = json_object_get(c, "environment");
	v.file = json_object();
	envp = xasprintf("%s%s%s", dir, *dir ? "/" : "",
	    jsonl_str(c, "env_file_path", ".env"));
	if (*dir)
		read_env_file(envp, v.file);
	free(envp);
	fp = json_object_get(c, "file_paths");
	skip = json_object_get(c, "auto_update_skip_services");
	nfiles = *contents ? 1 : json_array_size(fp) ? json_array_size(fp) : 1;
	for (i = 0; i < nfiles; i++) {
		buf_reset(&data);
		buf_reset(&err);
		if (*contents) {
			path = xasprintf("stack '%s' file_contents", name);
			buf_adds(&data, contents);
		} else {
			const char *f = json_array_size(fp) ?
			    json_string_value(json_array_get(fp, i)) :
			    "compose.yaml";

			path = f && f[0] == '/' ? xstrdup(f) :
			    xasprintf("%s%s%s", dir, *dir ? "/" : "",
			    f ? f : "");
			if (file_read(path, &data, COMPOSEIMG_MAX_FILE) < 0) {
				kom_warn("%s: stack '%s': %s: %s", source,
				    name, path, errno == EFBIG ?
				    "larger than 1 MiB" : strerror(errno));
				errors++;
				free(path);
				continue;
			}
		}
		if (composeimg_parse(path, data.s, data.len, lookup, &v, &im,
		    &n, &err) < 0) {
			kom_warn("%s: stack '%s': %s", source, name, err.s);
			errors++;
			free(path);
			continue;
		}
		for (j = 0; j < n; j++) {
			size_t k;
			int skipped = 0;

			for (k = 0; k < json_array_size(skip); k++)
				if (json_string_value(json_array_get(skip, k))
				    && !strcmp(json_string_value(
				    json_array_get(skip, k)), im[j].service))
					skipped = 1;
			o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "image",
			    "type", "stack", "name", name, "service",
			    im[j].service, "image", im[j].image);
			json_object_set_new(o, "_sync", json_string(sync));
			json_object_set(o, "_config", (json_t *)c);
			if (strchr(im[j].image, '@'))
				json_object_set_new(o, "pinned", json_true());
			if (skipped)
				json_object_set_new(o, "skip_auto_update",
				    json_true());
			json_array_append_new(found, o);
		}
		composeimg_free(im, n);
		free(path);
	}
	free(v.tmp);
	json_decref(v.file);
	buf_free(&data);
	buf_free(&err);
	return errors;
}

/* The digests the running containers of o were pulled as. */
static json_t *
running_digests(struct docker *d, const json_t *o)
{
	const char *type = jsonl_str(o, "type", ""), *name = jsonl_str(o,
	    "name", "");
	const json_t *c = json_object_get(o, "_config");
	struct docker_error de;
	json_t *list = NULL, *ci = NULL, *ii = NULL, *rd, *out = json_array();
	const char *labels[3], *id;
	char *l1 = NULL, *l2 = NULL;
	size_t i, j;

	if (!strcmp(type, "deployment")) {
		const char *cn = jsonl_str(c, "custom_name", "");

		list = json_array();
		if (docker_container_inspect(d, *cn ? cn : name, &ci, &de) ==
		    0)
			json_array_append_new(list, json_pack("{s:s}", "Id",
			    jsonl_str(ci, "Id", "")));
		json_decref(ci);
	} else {
		const char *pn = jsonl_str(c, "project_name", "");

		l1 = xasprintf("com.docker.compose.project=%s", *pn ? pn :
		    name);
		l2 = xasprintf("com.docker.compose.service=%s",
		    jsonl_str(o, "service", ""));
		labels[0] = l1;
		labels[1] = l2;
		labels[2] = NULL;
		if (docker_container_list(d, labels, 0, &list, &de) < 0)
			list = json_array();
	}
	for (i = 0; i < json_array_size(list); i++) {
		id = jsonl_str(json_array_get(list, i), "Id", "");
		ci = NULL;
		ii = NULL;
		if (docker_container_inspect(d, id, &ci, &de) == 0 &&
		    docker_image_inspect(d, jsonl_str(ci, "Image", ""), &ii,
		    &de) == 0) {
			rd = json_object_get(ii, "RepoDigests");
			for (j = 0; j < json_array_size(rd); j++) {
				const char *s = json_string_value(
				    json_array_get(rd, j)), *at;

				if (s && (at = strchr(s, '@')))
					json_array_append_new(out,
					    json_string(at + 1));
			}
		}
		json_decref(ci);
		json_decref(ii);
	}
	json_decref(list);
	free(l1);
	free(l2);
	return out;
}

static int
has(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (!strcmp(json_string_value(json_array_get(arr, i)), s))
			return 1;
	return 0;
}

/* "USERNAME:TOKEN" of the kom.toml account o's registry account names
 * (a deployment's image_registry_account, a stack's registry_account),
 * fresh (secrets_wipe), or NULL. */
static char *
account_login(const struct config *cfg, const json_t *o)
{
	const json_t *c = json_object_get(o, "_config");
	const char *image = jsonl_str(o, "image", ""), *acct = jsonl_str(c,
	    !strcmp(jsonl_str(o, "type", ""), "stack") ? "registry_account" :
	    "image_registry_account", "");
	const struct gitcfg_account *a;
	char domain[256], *token, *login;

	if (docker_registry_domain(image, domain, sizeof(domain)) < 0 ||
	    !(a = gitcfg_registry_account(&cfg->registries, domain, acct,
	    cfg->secrets_dir, &token)))
		return NULL;
	login = xasprintf("%s:%s", a->username, token);
	secrets_wipe(token);
	return login;
}

/*
 * Ask the registry for each image's digest and compare: one alert per
 * new digest (STATE/poll/images.json remembers those alerted), one event
 * per auto-updating resource with its updated services.  The errors.
 */
static long
check(const struct kom_paths *p, const struct config *cfg, json_t *found,
    json_t *state, json_t *syncerr, long *alerts, long *events)
{
	struct docker_error de;
	struct docker *d = docker_open(&de);
	struct buf err = BUF_INIT;
	char *dg, *key, *s, *login;
	json_t *o, *run, *ev, *evs = json_object(), *al;
	const json_t *c;
	const char *type, *name, *prev;
	long errors = 0;
	size_t i;
	int upd, auto_up, rc;

	if (!d) {
		kom_warn("%s", de.msg);
		errors++;
		for (i = 0; i < json_array_size(found); i++)
			json_object_set_new(syncerr, jsonl_str(json_array_get(
			    found, i), "_sync", ""), json_string(de.msg));
	}
	for (i = 0; d && i < json_array_size(found); i++) {
		o = json_array_get(found, i);
		if (json_is_true(json_object_get(o, "pinned")))
			continue;
		buf_reset(&err);
		login = account_login(cfg, o);
		rc = registry_digest(jsonl_str(o, "image", ""), login, 10000,
		    &dg, &err);
		if (login)
			secrets_wipe(login);
		if (rc < 0) {
			kom_warn("%s", err.s);
			json_object_set_new(o, "error", json_string(err.s));
			if (!json_object_get(syncerr, jsonl_str(o, "_sync", "")))
				json_object_set_new(syncerr, jsonl_str(o, "_sync",
				    ""), json_string(err.s));
			errors++;
			continue;
		}
		run = running_digests(d, o);
		/* no digest known: no update (as Komodo) */
		upd = json_array_size(run) && !has(run, dg);
		json_object_set_new(o, "latest", json_string(dg));
		json_object_set_new(o, "running", run);
		json_object_set_new(o, "update", json_boolean(upd));
		type = jsonl_str(o, "type", "");
		name = jsonl_str(o, "name", "");
		c = json_object_get(o, "_config");
		key = xasprintf("%s/%s/%s", type, name, jsonl_str(o, "service",
		    ""));
		prev = json_string_value(json_object_get(state, key));
		auto_up = json_is_true(json_object_get(c, "auto_update")) &&
		    !json_is_true(json_object_get(o, "skip_auto_update"));
		if (upd && auto_up) {
			s = xasprintf("%s/%s", type, name);
			if (!(ev = json_object_get(evs, s))) {
				ev = json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:s},"
				    "s:s,s:[]}", "kind", "event", "source",
				    "images", "ts", (json_int_t)kom_wall_ms(),
				    "sync", jsonl_str(o, "_sync", ""),
				    "target", "type", type, "name", name,
				    "action", "deploy", "services");
				json_object_set_new(ev, "images", json_array());
				json_object_set_new(evs, s, ev);
			}
			/* what the *AutoUpdated alert names */
			json_array_append_new(json_object_get(ev, "images"),
			    json_string(jsonl_str(o, "image", "")));
			if (*jsonl_str(o, "service", ""))
				json_array_append_new(json_object_get(ev,
				    "services"), json_string(jsonl_str(o,
				    "service", "")));
			free(s);
		} else if (upd && (!prev || strcmp(prev, dg))) {
			al = alert_new("OK", !strcmp(type, "stack") ? "Stack" :
			    "Deployment", name, !strcmp(type, "stack") ?
			    "StackImageUpdateAvailable" :
			    "DeploymentImageUpdateAvailable", json_pack(
			    "{s:s,s:s,s:s}", "name", name, "image",
			    jsonl_str(o, "image", ""), "digest", dg));
			if (!strcmp(type, "stack"))
				json_object_set_new(json_object_get(
				    json_object_get(al, "data"), "data"),
				    "service", json_string(jsonl_str(o,
				    "service", "")));
			json_object_set_new(al, "resolved", json_true());
			if (alert_queue(p->spool, al) < 0) {
				kom_warne("%s/alert", p->spool);
				errors++;
			} else {
				json_object_set_new(state, key,
				    json_string(dg));
				(*alerts)++;
			}
			json_decref(al);
		} else if (!upd)
			json_object_del(state, key);
		free(key);
		free(dg);
	}
	{
		const char *k;
		json_t *v;

		json_object_foreach(evs, k, v) {
			s = json_dumps(v, JSON_COMPACT);
			buf_reset(&err);
			buf_adds(&err, s);
			buf_addc(&err, '\n');
			if (spool_init(p->spool, "sync") < 0 ||
			    spool_put(p->spool, "sync", err.s, err.len,
			    NULL) < 0) {
				kom_warne("%s/sync", p->spool);
				errors++;
			} else
				(*events)++;
			free(s);
		}
	}
	json_decref(evs);
	if (d)
		docker_close(d);
	buf_free(&err);
	return errors;
}

/*
 * STATE/poll/images.json: {"version":1,"alerted":{KEY:DIGEST},"syncs":
 * {SYNC:{"last","next","failures","error"}}}.
 */
static json_t *
load_state(const char *path)
{
	json_t *st = poll_state_load(path);

	if (!json_is_object(json_object_get(st, "alerted")))
		json_object_set_new(st, "alerted", json_object());
	return st;
}

static int
save_state(const struct kom_paths *p, const json_t *st)
{
	char *dir = xasprintf("%s/poll", p->state);
	char *path = xasprintf("%s/images.json", dir);
	int rc = 0;

	if (file_mkdir_p(dir, 0700) < 0 || poll_state_save(path, st) < 0) {
		kom_warne("%s", path);
		rc = -1;
	}
	free(path);
	free(dir);
	return rc;
}

/* One "poll" line per sync looked at (or not due): as kom-poll git's. */
static int
poll_line(const char *sync, int due, const json_t *ss)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:I}", "kind", "poll",
	    "source", "images", "sync", sync, "due", due, "next",
	    json_integer_value(json_object_get(ss, "next")));

	if (due) {
		json_object_set_new(o, "failures", json_integer(
		    json_integer_value(json_object_get(ss, "failures"))));
		if (json_object_get(ss, "error"))
			json_object_set(o, "error", json_object_get(ss,
			    "error"));
	}
	return jsonl_write_steal(stdout, o);
}

int
images_main(int argc, char **argv)
{
	struct kom_paths p;
	struct config cfg;
	json_t *recs, *rec, *c, *o, *found, *st = NULL;
	json_t *syncs = NULL, *ss, *syncerr, *dues;
	const char *type, *img;
	long long now, next;
	long errors = 0, count = 0, alerts = 0, events = 0, failures;
	size_t i, j;
	int ch, list = 0, all = 0, wrc = 0;

	while ((ch = getopt(argc, argv, "ahl")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'l':
			list = 1;
			break;
		case 'h':
			puts(usage);
			return KOM_EX_OK;
		default:
			fprintf(stderr, "%s\n", usage);
			return KOM_EX_USAGE;
		}
	}
	if (optind != argc || (list && all)) {
		fprintf(stderr, "%s\n", usage);
		return KOM_EX_USAGE;
	}
	paths_get(&p);
	if (config_load(p.config, 0, &cfg) < 0) {
		paths_free(&p);
		return KOM_EX_CONFIG;
	}
	found = json_array();
	syncerr = json_object();
	dues = json_array();
	if (!list) {
		char *spath = xasprintf("%s/poll/images.json", p.state);

		st = load_state(spath);
		free(spath);
		syncs = json_object_get(st, "syncs");
	}
	for (i = 0; i < cfg.nsyncs; i++) {
		if (!list) {
			ss = json_object_get(syncs, cfg.syncs[i].name);
			now = kom_wall_ms();
			if (!all && ss && now < json_integer_value(
			    json_object_get(ss, "next"))) {
				if (poll_line(cfg.syncs[i].name, 0, ss) < 0)
					wrc = -1;
				continue;
			}
			json_array_append_new(dues, json_integer((json_int_t)i));
		}
		recs = poll_sync_records(&cfg, &cfg.syncs[i], p.state);
		for (j = 0; j < json_array_size(recs); j++) {
			rec = json_array_get(recs, j);
			c = json_object_get(rec, "config");
			type = jsonl_str(rec, "type", "");
			if (!json_is_true(json_object_get(c,
			    "poll_for_updates")) && !json_is_true(
			    json_object_get(c, "auto_update")))
				continue;
			if (!strcmp(type, "stack")) {
				errors += stack_images(rec, cfg.syncs[i].name,
				    jsonl_str(rec, "source", ""), found);
				count++;
				continue;
			}
			if (strcmp(type, "deployment"))
				continue;
			count++;
			img = json_string_value(json_object_get(
			    json_object_get(json_object_get(c, "image"),
			    "params"), "image"));
			if (!img || strcmp(jsonl_str(json_object_get(c,
			    "image"), "type", ""), "Image"))
				continue;	/* built by a [[build]] */
			o = json_pack("{s:s,s:s,s:s,s:s}", "kind", "image",
			    "type", "deployment", "name",
			    jsonl_str(rec, "name", ""), "image", img);
			if (strchr(img, '@'))
				json_object_set_new(o, "pinned", json_true());
			json_object_set_new(o, "_sync",
			    json_string(cfg.syncs[i].name));
			json_object_set(o, "_config", c);
			json_array_append_new(found, o);
		}
		json_decref(recs);
	}
	if (!list) {
		errors += check(&p, &cfg, found, json_object_get(st,
		    "alerted"), syncerr, &alerts, &events);
		/* each sync looked at: its next look, or its backoff */
		for (j = 0; j < json_array_size(dues); j++) {
			const struct config_sync *sy = &cfg.syncs[
			    json_integer_value(json_array_get(dues, j))];
			json_t *e = json_object_get(syncerr, sy->name);

			if (!(ss = json_object_get(syncs, sy->name))) {
				ss = json_object();
				json_object_set_new(syncs, sy->name, ss);
			}
			failures = e ? (long)json_integer_value(
			    json_object_get(ss, "failures")) + 1 : 0;
			now = kom_wall_ms();
			next = poll_next_look(now, sy->images_interval,
			    failures);
			json_object_set_new(ss, "last", json_integer(now));
			json_object_set_new(ss, "next", json_integer(next));
			json_object_set_new(ss, "failures",
			    json_integer(failures));
			if (e)
				json_object_set(ss, "error", e);
			else
				json_object_del(ss, "error");
			if (poll_line(sy->name, 1, ss) < 0)
				wrc = -1;
		}
		if (save_state(&p, st) < 0)
			errors++;
	}
	json_decref(st);
	json_decref(dues);
	json_decref(syncerr);
	for (j = 0; j < json_array_size(found); j++) {
		o = json_array_get(found, j);
		json_object_del(o, "_sync");
		json_object_del(o, "_config");
		if (jsonl_write(stdout, o) < 0)
			wrc = -1;
	}
	json_decref(found);
	o = json_pack("{s:s,s:s,s:{s:I,s:I}}", "kind", "end", "program",
	    "kom-poll", "counts", "resources", (json_int_t)count, "errors",
	    (json_int_t)errors);
	if (!list) {
		json_object_set_new(json_object_get(o, "counts"), "alerts",
		    json_integer(alerts));
		json_object_set_new(json_object_get(o, "counts"), "events",
		    json_integer(events));
	}
	if (jsonl_write_steal(stdout, o) < 0)
		wrc = -1;
	config_free(&cfg);
	paths_free(&p);
	if (fclose(stdout) != 0 || wrc) {
		kom_warne("stdout");
		return KOM_EX_IOERR;
	}
	return errors ? KOM_EX_DATAERR : KOM_EX_OK;
}
