/*
 * container: a deployment's normalized config -> the Docker Engine API
 * ContainerCreate request body and its config hash.  The reverse check
 * (does a live container still match?) is container_drift.h.
 *
 * The config is the "config" object of a deployment resource record
 * (kom-json(5)), ALREADY INTERPOLATED by the caller: [[VAR]] replaced by
 * values, secrets included.  The body therefore holds secret values: it
 * goes to the engine and to the hash, never to a file, a stream or a
 * message.  Error messages name fields and flags, never values of
 * environment variables.
 *
 * Mapping (Komodo runs `docker run ...` through bash -c; kom does not):
 *	image.params.image	Image (or spec->image for a Build image)
 *	command			Cmd, split into words like a POSIX shell
 *				(shellwords.h) but nothing is expanded:
 *				$VAR, `cmd`, globs stay literal; shell
 *				operators (| ; & < > ( )) are an error
 *	environment		Env "K=V"; a value wrapped in one matching
 *				pair of quotes ("v" or 'v') loses that pair,
 *				as the shell did for Komodo; nothing else
 *	labels			Labels (same quote rule), plus kom.managed,
 *				kom.type, kom.name, kom.sync, kom.config-hash
 *	network			HostConfig.NetworkMode ("host" when empty)
 *	ports			HostConfig.PortBindings + ExposedPorts
 *	volumes			HostConfig.Binds (":ro"/":rw" kept)
 *	restart			HostConfig.RestartPolicy (on-failure: 10 tries)
 *				(these three in docker run's syntax, runval.h)
 *	termination_signal	StopSignal
 *	termination_timeout	StopTimeout
 *	extra_args		docker run flags (runflags.h)
 *
 * Errors: functions returning int give 0 on success and -1 with one
 * lowercase line in err (errlen bytes, NUL-terminated), no program name,
 * no file:line (the caller adds the resource's source).  Give err
 * CONTAINER_ERR_MAX bytes: the message for an unknown docker run flag
 * lists the supported ones.
 */
#ifndef KOM_CONTAINER_H
#define KOM_CONTAINER_H

#include <stddef.h>
#include <jansson.h>

/* sha256 in hex and the NUL. */
#define CONTAINER_HASH_LEN 65

/* Enough for every message of container_spec. */
#define CONTAINER_ERR_MAX 2048

struct container_spec_opts {
	const char *name;	/* kom.name: the resource name (required) */
	const char *type;	/* kom.type: NULL means "deployment" */
	const char *sync;	/* kom.sync: NULL or "" leaves the label out */
	const char *image;	/* NULL: config.image.params.image (type
				   "Image"); set it for a "Build" image */
	const json_t *labels;	/* extra labels to add (object of strings,
				   e.g. {"kom.test":"x"}), or NULL */
};

/*
 * Build the create body.  On success *body is a new object the caller
 * json_decref()s, with Labels["kom.config-hash"] set, and hash (when not
 * NULL) receives the same hex digest.
 */
int container_spec(const json_t *config, const struct container_spec_opts *o,
    json_t **body, char hash[CONTAINER_HASH_LEN], char *err, size_t errlen);

/*
 * The config hash of a body: sha256 hex of json_dumps(JSON_SORT_KEYS |
 * JSON_COMPACT) of body with the Labels "kom.config-hash" entry left
 * out, so the hash of a body that carries it equals the hash it carries.
 * An unchanged spec gives the same hash; any change (an environment value
 * too) gives another.  The hash covers the interpolated spec, secrets
 * included, but only the hash is ever stored.  Returns 0, -1 when body
 * cannot be serialized.
 */
int container_hash(const json_t *body, char hash[CONTAINER_HASH_LEN]);

/*
 * The container name of a deployment: config.custom_name (trimmed) when
 * it is not empty, else the resource name.  A fresh string.
 */
char *container_name(const json_t *config, const char *resource_name);

#endif
