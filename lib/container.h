/*
 * container: a deployment's normalized config -> the Docker Engine API
 * ContainerCreate request body, its config hash, and the reverse check
 * (does a live container still match what kom created?).
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
 *	termination_signal	StopSignal
 *	termination_timeout	StopTimeout
 *	extra_args		the docker run flags listed in
 *				container_extra_args_supported
 *
 * Errors: functions returning int give 0 on success and -1 with one
 * lowercase line in err (errlen bytes, NUL-terminated), no program name,
 * no file:line (the caller adds the resource's source).
 */
#ifndef KOM_CONTAINER_H
#define KOM_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* sha256 in hex and the NUL. */
#define CONTAINER_HASH_LEN 65

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

enum container_drift {
	CONTAINER_DRIFT_NONE = 0,	/* matches and runs */
	CONTAINER_DRIFT_CHANGED,	/* hash label or key config differs */
	CONTAINER_DRIFT_STOPPED,	/* matches but State.Running is false */
	CONTAINER_DRIFT_REMOVED,	/* inspect is NULL: no such container */
	CONTAINER_DRIFT_UNMANAGED	/* no kom.managed=true label */
};

/*
 * Compare an inspected container (GET /containers/ID/json, or NULL when
 * it does not exist) with the body kom would create.  Checks, in order:
 * existence, kom.managed, the kom.config-hash label against the body's,
 * then key fields changed by hand (docker update, docker network
 * connect...): Image, Cmd, Env (names only in messages), Labels,
 * HostConfig NetworkMode, RestartPolicy, Binds, PortBindings, Memory,
 * MemoryReservation, NanoCpus, CpuShares, CpusetCpus, PidsLimit,
 * Privileged, ReadonlyRootfs; then State.Running (a paused container is
 * running).  Returns the enum value; why (when not NULL) gets one line
 * saying what differs, "" when nothing does.
 */
int container_drift(const json_t *inspect, const json_t *create_body,
    char *why, size_t whylen);

/* "changed", "stopped", "removed", "unmanaged"; NULL for NONE. */
const char *container_drift_name(int drift);

/*
 * Parse a size "512", "512b", "64k", "512m", "1g", "1.5g" (case
 * insensitive, optional trailing "b"/"ib": "512mb", "1GiB") into bytes,
 * powers of 1024.  Returns 0, -1 when malformed or out of range.
 */
int container_parse_size(const char *s, int64_t *bytes);

/*
 * Parse a Go-style duration "30s", "1m30s", "500ms", "2h", "1.5s", "10us",
 * "0" into nanoseconds.  Returns 0, -1 when malformed or out of range.
 */
int container_parse_duration(const char *s, int64_t *ns);

/*
 * Apply docker run flags to a body built so far (container_spec does this
 * for config.extra_args).  args: n entries, each either one flag
 * ("--init", "--memory=512m"), a flag and its value in one string
 * ("--memory 512m"), or a value following a flag in the previous entry.
 * An entry is split into words with shellwords, as the shell that ran
 * Komodo's docker run line did, except an entry that is the value of a
 * flag ending the previous entry: that one is taken verbatim
 * (["--health-cmd", "curl -f localhost || exit 1"]).
 */
int container_extra_args(json_t *body, const char *const *args, size_t n,
    char *err, size_t errlen);

/* The supported flags, space separated, for messages and the man page. */
extern const char container_extra_args_supported[];

#endif
