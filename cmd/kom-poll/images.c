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

#include "buf.h"
#include "composeimg.h"
#include "config.h"
#include "file.h"
#include "jsonl.h"
#include "paths.h"
#include "poll.h"
#include "util.h"
#include "banned.h"

static const char usage[] = "usage: kom-poll images -l";

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

static int
out_line(json_t *o)
{
	return jsonl_write_steal(stdout, o);
}

/* One stack's services; the number of errors. */
static long
stack_images(const json_t *rec, const char *source, int *wrc)
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
			if (strchr(im[j].image, '@'))
				json_object_set_new(o, "pinned", json_true());
			if (skipped)
				json_object_set_new(o, "skip_auto_update",
				    json_true());
			if (out_line(o) < 0)
				*wrc = -1;
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

int
images_main(int argc, char **argv)
{
	struct kom_paths p;
	struct config cfg;
	json_t *recs, *rec, *c, *o;
	const char *type, *img;
	long errors = 0, count = 0;
	size_t i, j;
	int ch, list = 0, wrc = 0;

	while ((ch = getopt(argc, argv, "hl")) != -1) {
		switch (ch) {
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
	if (optind != argc || !list) {
		if (!list)
			kom_warn("images: only -l (list) is there so far");
		fprintf(stderr, "%s\n", usage);
		return KOM_EX_USAGE;
	}
	paths_get(&p);
	if (config_load(p.config, 0, &cfg) < 0) {
		paths_free(&p);
		return KOM_EX_CONFIG;
	}
	for (i = 0; i < cfg.nsyncs; i++) {
		recs = poll_sync_records(&cfg, &cfg.syncs[i]);
		for (j = 0; j < json_array_size(recs); j++) {
			rec = json_array_get(recs, j);
			c = json_object_get(rec, "config");
			type = jsonl_str(rec, "type", "");
			if (!json_is_true(json_object_get(c,
			    "poll_for_updates")) && !json_is_true(
			    json_object_get(c, "auto_update")))
				continue;
			if (!strcmp(type, "stack")) {
				errors += stack_images(rec,
				    jsonl_str(rec, "source", ""), &wrc);
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
			if (out_line(o) < 0)
				wrc = -1;
		}
		json_decref(recs);
	}
	o = json_pack("{s:s,s:s,s:{s:I,s:I}}", "kind", "end", "program",
	    "kom-poll", "counts", "resources", (json_int_t)count, "errors",
	    (json_int_t)errors);
	if (out_line(o) < 0)
		wrc = -1;
	config_free(&cfg);
	paths_free(&p);
	if (fclose(stdout) != 0 || wrc) {
		kom_warne("stdout");
		return KOM_EX_IOERR;
	}
	return errors ? KOM_EX_DATAERR : KOM_EX_OK;
}
