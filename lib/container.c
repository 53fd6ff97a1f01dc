/*
 * container: deployment config -> ContainerCreate body and config hash
 * (container.h).
 *
 * The body is the Engine API's create request: Config fields at the top
 * level, HostConfig and NetworkingConfig inside.  Komodo builds a
 * `docker run` line instead; the fields are read in docker run's own
 * syntaxes (runval.h) and extra_args as docker run's flags (runflags.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "container.h"
#include "runflags.h"
#include "runval.h"
#include "shellwords.h"
#include "util.h"
#include "banned.h"

/* Short names for the body helpers of runval.h. */
#define errf runval_err
#define obj runval_obj
#define str runval_str

_Static_assert(CONTAINER_ERR_MAX >= RUNFLAGS_ERR_MAX,
    "container_spec passes runflags_apply's messages on");

/* "local:container", or the one that is not empty. */
static char *
join_pair(const json_t *e)
{
	const char *l = str(e, "local"), *c = str(e, "container");

	if (*l == '\0')
		return xstrdup(c);
	if (*c == '\0')
		return xstrdup(l);
	return xasprintf("%s:%s", l, c);
}

/* ---- the spec ---- */

int
container_hash(const json_t *body, char hash[CONTAINER_HASH_LEN])
{
	json_t *copy = json_deep_copy(body);
	json_t *labels;
	char *s;

	if (copy == NULL)
		return -1;
	labels = json_object_get(copy, "Labels");
	if (json_is_object(labels))
		json_object_del(labels, "kom.config-hash");
	s = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(copy);
	if (s == NULL)
		return -1;
	kom_sha256_hex(s, strlen(s), hash);
	free(s);
	return 0;
}

char *
container_name(const json_t *config, const char *resource_name)
{
	const char *c = str(config, "custom_name");
	size_t n;

	while (isspace((unsigned char)*c))
		c++;
	n = strlen(c);
	while (n > 0 && isspace((unsigned char)c[n - 1]))
		n--;
	return n ? xstrndup(c, n) : xstrdup(resource_name);
}

/*
 * config[field], an array of {"key","value"}, into Env as "K=V"
 * (out_env) or into Labels (out_labels); a value loses one pair of
 * quotes (runval_unquote).
 */
static int
key_value_field(const json_t *config, const char *field, json_t *out_env,
    json_t *out_labels, char *err, size_t errlen)
{
	const json_t *list = json_object_get(config, field), *e;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(err, errlen, "%s: expected an array of "
		    "{\"key\",\"value\"}", field);
	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		const json_t *vj = json_object_get(e, "value");
		char *v;

		if (k == NULL || (vj != NULL && !json_is_string(vj)))
			return errf(err, errlen, "%s[%zu]: expected "
			    "{\"key\":string,\"value\":string}", field, i);
		if (*k == '\0')
			return errf(err, errlen, "%s[%zu]: empty key", field,
			    i);
		v = runval_unquote(vj ? json_string_value(vj) : "");
		if (out_env != NULL) {
			char *kv = xasprintf("%s=%s", k, v);

			json_array_append_new(out_env, json_string(kv));
			free(kv);
		} else {
			if (runval_label_key(k, err, errlen) < 0) {
				free(v);
				return -1;
			}
			json_object_set_new(out_labels, k, json_string(v));
		}
		free(v);
	}
	return 0;
}

static int
pair_list(const json_t *config, const char *field, json_t *body,
    int (*add)(json_t *, const char *, char *, size_t), char *err,
    size_t errlen)
{
	const json_t *list = json_object_get(config, field), *e;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errf(err, errlen, "%s: expected an array of "
		    "{\"local\",\"container\"}", field);
	json_array_foreach(list, i, e) {
		char *spec, tmp[400];
		int r;

		if (!json_is_object(e))
			return errf(err, errlen, "%s[%zu]: expected "
			    "{\"local\",\"container\"}", field, i);
		spec = join_pair(e);
		if (*spec == '\0') {
			free(spec);
			continue;
		}
		r = add(body, spec, tmp, sizeof(tmp));
		free(spec);
		if (r < 0)
			return errf(err, errlen, "%s[%zu]: %s", field, i, tmp);
	}
	return 0;
}

int
container_spec(const json_t *config, const struct container_spec_opts *o,
    json_t **bodyp, char hash[CONTAINER_HASH_LEN], char *err, size_t errlen)
{
	json_t *body, *hc, *labels, *env;
	const json_t *img = json_object_get(config, "image"), *xa, *tt;
	const char *image = o->image, *cmd, *net, *sig;
	char h[CONTAINER_HASH_LEN];

	if (!json_is_object(config))
		return errf(err, errlen, "config: expected an object");
	if (o->name == NULL || *o->name == '\0')
		return errf(err, errlen, "the resource name is empty");
	if (image == NULL) {
		const char *type = str(img, "type");

		if (strcmp(type, "Image") != 0 && *type != '\0')
			return errf(err, errlen, "image: a '%s' image must "
			    "be resolved to an image name first", type);
		image = str(json_object_get(img, "params"), "image");
	}
	while (isspace((unsigned char)*image))
		image++;
	if (*image == '\0')
		return errf(err, errlen, "image: no image name");

	body = json_object();
	hc = obj(body, "HostConfig");
	labels = obj(body, "Labels");
	json_object_set_new(body, "Image", json_string(image));

	cmd = str(config, "command");
	if (*cmd != '\0') {
		char **argv, tmp[200];
		size_t argc;

		if (shellwords_split(cmd, &argv, &argc, tmp, sizeof(tmp)) < 0) {
			errf(err, errlen, "command: %s", tmp);
			goto fail;
		}
		if (argc > 0) {
			json_t *a = json_array();

			for (size_t i = 0; i < argc; i++)
				json_array_append_new(a, json_string(argv[i]));
			json_object_set_new(body, "Cmd", a);
		}
		shellwords_free(argv);
	}

	env = json_array();
	json_object_set_new(body, "Env", env);
	if (key_value_field(config, "environment", env, NULL, err,
	    errlen) < 0 ||
	    key_value_field(config, "labels", NULL, labels, err, errlen) < 0)
		goto fail;

	net = str(config, "network");
	while (isspace((unsigned char)*net))
		net++;
	json_object_set_new(hc, "NetworkMode",
	    json_string(*net ? net : "host"));
	if (pair_list(config, "ports", body, runval_port, err, errlen) < 0 ||
	    pair_list(config, "volumes", body, runval_volume, err, errlen) < 0)
		goto fail;
	{
		const char *rs = str(config, "restart");
		char tmp[300];

		if (runval_restart(body, rs, tmp, sizeof(tmp)) < 0) {
			errf(err, errlen, "%s", tmp);
			goto fail;
		}
	}
	sig = str(config, "termination_signal");
	json_object_set_new(body, "StopSignal",
	    json_string(*sig ? sig : "SIGTERM"));
	tt = json_object_get(config, "termination_timeout");
	if (tt != NULL && !json_is_null(tt)) {
		if (!json_is_integer(tt) || json_integer_value(tt) < 0 ||
		    json_integer_value(tt) > INT32_MAX) {
			errf(err, errlen, "termination_timeout: expected a "
			    "number of seconds");
			goto fail;
		}
		json_object_set(body, "StopTimeout", (json_t *)tt);
	} else {
		json_object_set_new(body, "StopTimeout", json_integer(10));
	}

	xa = json_object_get(config, "extra_args");
	if (xa != NULL && !json_is_null(xa)) {
		const char **v;
		size_t n = json_array_size(xa), i;
		const json_t *e;
		int r;

		if (!json_is_array(xa)) {
			errf(err, errlen, "extra_args: expected an array of "
			    "strings");
			goto fail;
		}
		v = xcalloc(n + 1, sizeof(*v));
		json_array_foreach(xa, i, e) {
			if (!json_is_string(e)) {
				free(v);
				errf(err, errlen, "extra_args[%zu]: expected "
				    "a string", i);
				goto fail;
			}
			v[i] = json_string_value(e);
		}
		r = runflags_apply(body, v, n, err, errlen);
		free(v);
		if (r < 0)
			goto fail;
	}

	if (o->labels != NULL) {
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)o->labels, k, v)
			if (json_is_string(v))
				json_object_set(labels, k, v);
	}
	json_object_set_new(labels, "kom.managed", json_string("true"));
	json_object_set_new(labels, "kom.type",
	    json_string(o->type ? o->type : "deployment"));
	json_object_set_new(labels, "kom.name", json_string(o->name));
	if (o->sync != NULL && *o->sync != '\0')
		json_object_set_new(labels, "kom.sync", json_string(o->sync));
	if (container_hash(body, h) < 0) {
		errf(err, errlen, "cannot serialize the container spec");
		goto fail;
	}
	json_object_set_new(labels, "kom.config-hash", json_string(h));
	if (hash != NULL)
		memcpy(hash, h, CONTAINER_HASH_LEN);
	*bodyp = body;
	return 0;
fail:
	json_decref(body);
	return -1;
}

