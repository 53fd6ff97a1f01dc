/*
 * docker: the Docker Engine API, spoken with libcurl over the unix socket
 * (or TCP with TLS client certificates), for kom-exec.
 *
 * The endpoint comes from the environment like the docker CLI's:
 * DOCKER_HOST (default unix:///var/run/docker.sock; unix://PATH or
 * tcp://HOST:PORT), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem,
 * cert.pem, key.pem; default ~/.docker) for tcp://, DOCKER_API_VERSION to
 * pin the API version, DOCKER_CONFIG for the directory of config.json
 * (registry credentials; default ~/.docker).  KOM_TEST_ENGINE_LOG, for
 * tests, names a file that gets one "METHOD PATH" line per call.
 *
 * docker_open() contacts the engine once (GET /_ping, whose Api-Version
 * header is cheaper than GET /version, the fallback) and negotiates
 * the API version: min(the server's ApiVersion, DOCKER_API_MAX); every
 * later request path is prefixed with /vX.Y.
 *
 * Ownership: a struct docker is owned by whoever opened it and released
 * with docker_close(); it is not safe to share between threads (one
 * handle per thread).  Every json_t ** result is a new reference the
 * caller json_decref()s; every char ** result is a string the caller
 * free()s.  Input pointers are borrowed for the duration of the call.
 *
 * Errors: every function returns 0 on success and -1 on failure with
 * *err filled in (err may not be NULL).  err->code says what kind of
 * failure it was (enum docker_errcode), err->http the HTTP status when the
 * engine answered (0 when it did not), err->msg one lowercase line
 * without the program name and without a trailing period, e.g.
 *	cannot reach the Docker engine at unix:///var/run/docker.sock: No such file or directory
 *	no such container: web
 * Messages never contain a request body (environment values may be
 * secrets), only the engine's own error message, the method and path.
 * Nothing is printed: the caller decides what to say.
 */
#ifndef KOM_DOCKER_H
#define KOM_DOCKER_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"

/* The newest API version kom speaks; the engine may offer an older one. */
#define DOCKER_API_MAX "1.45"
/* The oldest it accepts (Docker 20.10 speaks 1.41). */
#define DOCKER_API_MIN "1.40"
/* Cap on one response body (JSON, logs, pull progress): an error beyond. */
#define DOCKER_MAX_BODY ((size_t)64 << 20)
/* A container or image id: 64 hex digits and the NUL. */
#define DOCKER_ID_LEN 65

enum docker_errcode {
	DOCKER_OK = 0,
	DOCKER_EUNREACHABLE,	/* no engine answered: connect refused, no socket,
				   TLS handshake failed; kom-exec exits 69 */
	DOCKER_ENOTFOUND,	/* 404: no such container, image or network */
	DOCKER_ECONFLICT,	/* 409: name already in use, container running */
	DOCKER_ENOTMODIFIED,	/* 304: already started / already stopped */
	DOCKER_EHTTP,		/* any other HTTP error status from the engine */
	DOCKER_EFAILED,		/* the engine accepted the request but the work
				   failed: a pull stream ending in an error */
	DOCKER_EPROTO,		/* malformed answer: not JSON, bad log frame,
				   body over DOCKER_MAX_BODY */
	DOCKER_ETIMEOUT,	/* the request timed out */
	DOCKER_ECONFIG,		/* bad DOCKER_HOST, TLS files, config.json,
				   API version too old, bad argument */
	DOCKER_ESYSTEM		/* local failure (libcurl setup) */
};

struct docker_error {
	int code;		/* enum docker_errcode */
	int http;		/* HTTP status, 0 when there was no answer */
	char msg[512];
};

struct docker;

/*
 * Open the endpoint given by the environment (see above) and negotiate
 * the API version.  Returns NULL with *err set on failure; an engine that
 * does not answer gives DOCKER_EUNREACHABLE and the message
 * "cannot reach the Docker engine at ENDPOINT: REASON".
 */
struct docker *docker_open(struct docker_error *err);

void docker_close(struct docker *d);

/*
 * A second handle on d's endpoint with d's negotiated version, for
 * another thread: no call to the engine (it connects on its first
 * request).  NULL with *err set when libcurl cannot start one.
 */
struct docker *docker_clone(const struct docker *d, struct docker_error *err);

/* Is the engine on this machine (a unix socket), with the same clock? */
int docker_is_local(const struct docker *d);

/* The endpoint as given ("unix:///var/run/docker.sock"), for messages. */
const char *docker_endpoint(const struct docker *d);
/* The negotiated API version, "1.41". */
const char *docker_api_version(const struct docker *d);

/*
 * Deadlines, in seconds.  Connecting: 5.  Every ordinary call:
 * $KOM_ENGINE_TIMEOUT (1 to 86400), default 60; a stop or a restart gets
 * the container's stop timeout on top.  The whole of an image pull or a
 * log read: 1800, and such a call also fails when the engine sends
 * nothing for the ordinary deadline (a container wait, silent by nature,
 * has only its own).  A call past its deadline fails with
 * DOCKER_ETIMEOUT and the message
 *	METHOD PATH: no answer from the Docker engine within N s
 * and counts in docker_timeouts().  A bad KOM_ENGINE_TIMEOUT makes
 * docker_open fail with DOCKER_ECONFIG.
 */
/* The ordinary request deadline in force, in seconds. */
long docker_request_timeout(const struct docker *d);
/* How many calls on d have failed with DOCKER_ETIMEOUT since it opened. */
unsigned docker_timeouts(const struct docker *d);

/* GET /version: the engine's answer (Version, ApiVersion, Os, ...). */
int docker_version(struct docker *d, json_t **out, struct docker_error *err);
/* GET /_ping: 0 when the engine answers "OK". */
int docker_ping(struct docker *d, struct docker_error *err);

/*
 * Any other call: method ("GET", "POST", "DELETE"), path relative to the
 * version prefix starting with '/' and already URL-encoded (query
 * included), optional JSON body.  *out (when out is not NULL) gets the
 * decoded JSON answer, or NULL when the answer was empty.
 */
int docker_request(struct docker *d, const char *method, const char *path,
    const json_t *body, json_t **out, struct docker_error *err);

/*
 * GET /events?since=S&until=U (nanoseconds since the epoch, since at
 * least 1, until not before since): the events the engine still keeps
 * (its last 256, since it started) in that interval, oldest first, as
 * a JSON array in *out (see evlog.h).  until must not be in the
 * engine's future, or the engine waits for it.
 */
int docker_events(struct docker *d, long long since_ns, long long until_ns,
    json_t **out, struct docker_error *err);

/* ---- containers; ID is a container id or name ---- */

/*
 * GET /containers/json?all=1&filters={"label":[...]}: labels is a
 * NULL-terminated list of "key=value" or "key" filters (all must match),
 * or NULL for every container.  all: include stopped containers.
 * *out: the engine's JSON array.
 */
int docker_container_list(struct docker *d, const char *const *labels,
    int all, json_t **out, struct docker_error *err);

/* GET /containers/ID/json; DOCKER_ENOTFOUND when there is none. */
int docker_container_inspect(struct docker *d, const char *id, json_t **out,
    struct docker_error *err);

/*
 * POST /containers/create?name=NAME with body (see container.h); name may
 * be NULL for an engine-chosen name.  id receives the new container's id.
 * A name in use gives DOCKER_ECONFLICT; a missing image DOCKER_ENOTFOUND.
 */
int docker_container_create(struct docker *d, const char *name,
    const json_t *body, char id[DOCKER_ID_LEN], struct docker_error *err);

/* POST /containers/ID/start.  Already running: 0 (not an error). */
int docker_container_start(struct docker *d, const char *id,
    struct docker_error *err);

/*
 * POST /containers/ID/stop?signal=SIG&t=N.  signal NULL: the container's
 * StopSignal; timeout_s < 0: the container's StopTimeout.  Already
 * stopped: 0.  The request timeout is extended by timeout_s.
 */
int docker_container_stop(struct docker *d, const char *id,
    const char *signal, int timeout_s, struct docker_error *err);

/* POST /containers/ID/kill?signal=SIG (NULL: SIGKILL). */
int docker_container_kill(struct docker *d, const char *id,
    const char *signal, struct docker_error *err);

/* POST /containers/ID/restart?t=N (timeout_s < 0: the container's). */
int docker_container_restart(struct docker *d, const char *id,
    int timeout_s, struct docker_error *err);

int docker_container_pause(struct docker *d, const char *id,
    struct docker_error *err);
int docker_container_unpause(struct docker *d, const char *id,
    struct docker_error *err);

/* POST /containers/ID/rename?name=NEWNAME. */
int docker_container_rename(struct docker *d, const char *id,
    const char *newname, struct docker_error *err);

/* DELETE /containers/ID?force=F&v=V (v: remove anonymous volumes). */
int docker_container_remove(struct docker *d, const char *id, int force,
    int volumes, struct docker_error *err);

/*
 * POST /containers/ID/wait?condition=COND: block until the container
 * meets condition ("not-running", "next-exit", "removed"; NULL means
 * "not-running") or timeout_s passes (0: the slow timeout; then
 * DOCKER_ETIMEOUT).  *status gets the exit code.
 */
int docker_container_wait(struct docker *d, const char *id,
    const char *condition, long timeout_s, long *status,
    struct docker_error *err);

/*
 * GET /containers/ID/logs?stdout=1&stderr=1&tail=N (tail < 0: all):
 * append the log text to out, stdout and stderr in the engine's order,
 * demultiplexed when the container has no TTY.
 */
int docker_container_logs(struct docker *d, const char *id, int tail,
    struct buf *out, struct docker_error *err);

/*
 * Demultiplex a non-TTY log stream (8-byte frame headers: stream, 0, 0,
 * 0, big-endian length) into out.  Returns 0, or -1 when a frame header
 * is malformed or a frame is cut short.
 */
int docker_logs_demux(const unsigned char *p, size_t n, struct buf *out);

/* ---- images ---- */

/* GET /images/NAME/json; DOCKER_ENOTFOUND when not present locally. */
int docker_image_inspect(struct docker *d, const char *image, json_t **out,
    struct docker_error *err);

/*
 * POST /images/create?fromImage=REPO&tag=TAG (tag "latest" when image
 * has neither tag nor digest), with X-Registry-Auth from config.json when
 * it has credentials for the image's registry.  The progress stream is
 * read to its end: an "error"/"errorDetail" object in it fails the pull
 * (DOCKER_EFAILED) even though the HTTP status was 200.
 */
int docker_image_pull(struct docker *d, const char *image,
    struct docker_error *err);
/* The same, with fallback (an X-Registry-Auth value, or NULL) when
 * config.json has nothing for the image's registry. */
int docker_image_pull_auth(struct docker *d, const char *image,
    const char *fallback, struct docker_error *err);

/*
 * GET /distribution/NAME/json: the registry's descriptor of an image
 * (digest, platforms) without pulling it, with X-Registry-Auth as for a
 * pull.  Fails (DOCKER_ENOTFOUND, DOCKER_EHTTP...) when the registry does
 * not know the image or cannot be reached.  *out may be NULL.
 */
int docker_image_probe(struct docker *d, const char *image, json_t **out,
    struct docker_error *err);

/*
 * The registry domain of an image reference: its first path component
 * when that contains '.' or ':' or is "localhost", else "docker.io".
 * Writes at most size bytes (NUL included) to out; returns 0, -1 when it
 * does not fit.
 */
int docker_registry_domain(const char *image, char *out, size_t size);
/* The length of that first component when it names a registry, else 0
 * (no explicit registry: Docker Hub).  The one copy of the rule. */
size_t docker_registry_len(const char *image);

/*
 * The X-Registry-Auth value for domain from Docker's config.json
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json, "auths" with
 * "auth" = base64("user:password") or "username"/"password"): base64url
 * of {"username","password","serveraddress"}.  Returns 1 with *header
 * set, 0 when there are no credentials for domain (or no config.json),
 * -1 with *err when config.json cannot be read or parsed.  docker.io also
 * matches the key "https://index.docker.io/v1/".
 */
int docker_registry_auth(const char *domain, char **header,
    struct docker_error *err);
/* That value for user and password at domain, fresh (wipe it after). */
char *docker_registry_auth_value(const char *user, const char *password,
    const char *domain);

/* ---- builds and pushes ---- */

/*
 * POST /build?QUERY (already URL-encoded: t=, dockerfile=, buildargs=,
 * labels=, ...) with len bytes of tar as the context, the classic
 * builder.  The progress stream is read to its end; an error in it fails
 * the build (DOCKER_EFAILED).  *id (fresh, or NULL) is the image id the
 * stream's aux record gave.
 */
int docker_image_build(struct docker *d, const char *query, const void *tar,
    size_t len, char **id, struct docker_error *err);

/*
 * POST /images/REPO/push?tag=TAG with X-Registry-Auth from config.json
 * as for a pull (else fallback, when not NULL: an X-Registry-Auth value,
 * docker_registry_auth_value).  An error in the stream (a registry that
 * refuses)
 * fails it (DOCKER_EFAILED).  *digest (fresh, or NULL) is the pushed
 * manifest's digest.
 */
int docker_image_push(struct docker *d, const char *repo, const char *tag,
    const char *fallback, char **digest, struct docker_error *err);

/* ---- networks ---- */

/* GET /networks/NAME; DOCKER_ENOTFOUND when there is none. */
int docker_network_inspect(struct docker *d, const char *name, json_t **out,
    struct docker_error *err);

/*
 * GET /networks?filters={"label":[...]}: labels as for
 * docker_container_list (NULL: every network).  *out: the engine's array.
 */
int docker_network_list(struct docker *d, const char *const *labels,
    json_t **out, struct docker_error *err);

/* DELETE /networks/ID; DOCKER_ENOTFOUND when there is none. */
int docker_network_remove(struct docker *d, const char *id,
    struct docker_error *err);

/* POST /networks/create {"Name","Driver"} (driver NULL: the default). */
int docker_network_create(struct docker *d, const char *name,
    const char *driver, struct docker_error *err);

#endif
