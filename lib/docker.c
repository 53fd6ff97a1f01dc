/*
 * docker: the Docker Engine API over libcurl (docker.h).
 *
 * One CURL easy handle per struct docker, reused so that consecutive
 * requests share the connection.  Responses are collected in a buf with
 * a cap; the pull progress stream is parsed line by line as it arrives
 * instead, since a large image can print more progress than the cap.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "docker.h"
#include "evlog.h"
#include "file.h"
#include "util.h"
#include "banned.h"

#define CONFIG_JSON_MAX ((size_t)1 << 20)

struct docker {
	char *endpoint;		/* as given, for messages */
	char *sock;		/* unix socket path, or NULL for tcp */
	char *base;		/* "http://localhost", "https://host:2376" */
	char *certdir;		/* TLS files, or NULL */
	char version[16];	/* negotiated, "1.41" */
	long connect_s, request_s, slow_s;
	unsigned timeouts;	/* calls that ran past their deadline */
	long stall_s;		/* the silence the call under way allows, or 0 */
	CURL *curl;
	/* a POST body that is not JSON (a build context): its length and
	 * type, set around one transport() call, else 0 and NULL */
	size_t body_len;
	const char *body_type;
	char *trace;		/* $KOM_TEST_ENGINE_LOG, or NULL */
};

/* What a request does with the response body. */
struct resp {
	struct buf body;
	size_t max;
	int capped;
	/* pull mode: parse JSON lines as they come, keep the first error */
	int lines;
	struct buf line;
	char *stream_error;
	int stream_bad;
	char *aux;		/* the last aux.ID or aux.Digest (build, push) */
	char api[16];		/* the Api-Version header, or "" */
};

static int
seterr(struct docker_error *err, int code, int http, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
seterr(struct docker_error *err, int code, int http, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->http = http;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void
clearerr_(struct docker_error *err)
{
	err->code = DOCKER_OK;
	err->http = 0;
	err->msg[0] = '\0';
}

/* ---- API versions ---- */

static int
parse_version(const char *s, int *maj, int *min)
{
	char *end;
	long a, b;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	a = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a > 99 || b > 999)
		return -1;
	*maj = (int)a;
	*min = (int)b;
	return 0;
}

static int
version_cmp(const char *a, const char *b)
{
	int am = 0, an = 0, bm = 0, bn = 0;

	parse_version(a, &am, &an);
	parse_version(b, &bm, &bn);
	if (am != bm)
		return am < bm ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

/* ---- transport ---- */

static void
line_done(struct resp *r)
{
	json_t *j;
	const json_t *e;

	if (r->line.len == 0)
		return;
	j = json_loadb(r->line.s, r->line.len, 0, NULL);
	buf_reset(&r->line);
	if (!json_is_object(j)) {
		r->stream_bad = 1;
		json_decref(j);
		return;
	}
	e = json_object_get(j, "error");
	if (e == NULL)
		e = json_object_get(json_object_get(j, "errorDetail"),
		    "message");
	if (e == NULL)
		e = json_object_get(j, "message");	/* an HTTP error */
	if (e != NULL && r->stream_error == NULL)
		r->stream_error = xstrdup(json_is_string(e) ?
		    json_string_value(e) : "the engine reported an error");
	e = json_object_get(json_object_get(j, "aux"), "ID");
	if (!json_is_string(e))
		e = json_object_get(json_object_get(j, "aux"), "Digest");
	if (json_is_string(e)) {
		free(r->aux);
		r->aux = xstrdup(json_string_value(e));
	}
	json_decref(j);
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb;

	if (r->lines) {
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '\n' || p[i] == '\r') {
				line_done(r);
			} else if (r->line.len >= r->max) {
				r->capped = 1;
				return 0;
			} else {
				buf_addc(&r->line, p[i]);
			}
		}
		return n;
	}
	if (r->body.len + n > r->max) {
		r->capped = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	buf_add(&r->body, p, n);
	return n;
}

/* Keep the engine's Api-Version header (every answer carries it). */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb, k = sizeof("Api-Version:") - 1, len;

	if (n > k && strncasecmp(p, "Api-Version:", k) == 0) {
		p += k;
		n -= k;
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		len = strcspn(p, "\r\n");
		len = len < n ? len : n;
		if (len < sizeof(r->api)) {
			memcpy(r->api, p, len);
			r->api[len] = '\0';
		}
	}
	return size * nmemb;
}

static void
lower_first(char *s)
{
	if (isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1]))
		s[0] = (char)tolower((unsigned char)s[0]);
}

/* Was there a connection, new or reused, when the call failed? */
static int
connected(CURL *c)
{
	curl_off_t t = 0, p = 0;

	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &t);
	curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &p);
	return t > 0 || p > 0;
}

/* One line per call, for the tests that count what a run asks. */
static void
trace_call(const char *file, const char *method, const char *path)
{
	char line[512];
	int fd, n;

	n = snprintf(line, sizeof(line), "%s %.*s\n", method,
	    (int)strcspn(path, "?"), path);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1) < 0)
		(void)0;	/* a test's log: nothing to do about it */
	close(fd);
}

/*
 * Send one request.  versioned: prefix the path with /vX.Y.  On success
 * returns 0 with *status the HTTP status (any; the callers map errors).
 */
static int
transport(struct docker *d, const char *method, const char *path,
    int versioned, const char *body, const char *auth, long timeout_s,
    struct resp *r, long *status, struct docker_error *err)
{
	struct curl_slist *hdr = NULL;
	char *url, *h;
	CURLcode rc;
	char cerr[CURL_ERROR_SIZE] = "";
	int ret = 0;

	if (versioned)
		url = xasprintf("%s/v%s%s", d->base, d->version, path);
	else
		url = xasprintf("%s%s", d->base, path);
	curl_easy_reset(d->curl);
	curl_easy_setopt(d->curl, CURLOPT_URL, url);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT, d->connect_s);
	curl_easy_setopt(d->curl, CURLOPT_TIMEOUT, timeout_s);
	/* A pull or a log read may take long, but not in silence (a wait
	 * is silent by nature: it has only its own deadline). */
	if (d->stall_s > 0 && d->stall_s < timeout_s) {
		curl_easy_setopt(d->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(d->curl, CURLOPT_LOW_SPEED_TIME, d->stall_s);
	}
	curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(d->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(d->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(d->curl, CURLOPT_USERAGENT, "kom/" KOM_VERSION);
	curl_easy_setopt(d->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (d->sock != NULL)
		curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH, d->sock);
	if (d->certdir != NULL) {
		char *ca = xasprintf("%s/ca.pem", d->certdir);
		char *cert = xasprintf("%s/cert.pem", d->certdir);
		char *key = xasprintf("%s/key.pem", d->certdir);

		/* curl copies string options */
		curl_easy_setopt(d->curl, CURLOPT_CAINFO, ca);
		curl_easy_setopt(d->curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(d->curl, CURLOPT_SSLKEY, key);
		free(ca);
		free(cert);
		free(key);
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, d->body_type ?
		    (long)d->body_len : (long)(body ? strlen(body) : 0));
		h = xasprintf("Content-Type: %s", d->body_type ? d->body_type :
		    "application/json");
		hdr = curl_slist_append(hdr, h);
		free(h);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	if (auth != NULL) {
		h = xasprintf("X-Registry-Auth: %s", auth);
		hdr = curl_slist_append(hdr, h);
		free(h);
	}
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hdr);
	if (d->trace != NULL)
		trace_call(d->trace, method, path);
	rc = curl_easy_perform(d->curl);
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, status);
	if (r->lines)
		line_done(r);
	if (r->capped) {
		ret = seterr(err, DOCKER_EPROTO, (int)*status, "%s %s: the "
		    "engine's answer is larger than %zu MiB", method, path,
		    r->max >> 20);
	} else if (rc == CURLE_OPERATION_TIMEDOUT && (*status != 0 ||
	    connected(d->curl))) {
		curl_off_t spent = 0;
		long n = timeout_s;

		/* A slow call that fell silent names the silence it allows. */
		curl_easy_getinfo(d->curl, CURLINFO_TOTAL_TIME_T, &spent);
		if (d->stall_s > 0 && spent / 1000000 < timeout_s - 1)
			n = d->stall_s;
		d->timeouts++;
		ret = seterr(err, DOCKER_ETIMEOUT, 0, "%s %s: no answer from "
		    "the Docker engine within %ld s", method, path, n);
	} else if (rc != CURLE_OK) {
		long oserr = 0;
		const char *why = cerr[0] ? cerr : curl_easy_strerror(rc);

		curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_COULDNT_CONNECT && oserr != 0)
			why = strerror((int)oserr);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			why = "connection timed out";
		ret = seterr(err, DOCKER_EUNREACHABLE, 0, "cannot reach the "
		    "Docker engine at %s: %s", d->endpoint, why);
	}
	curl_slist_free_all(hdr);
	free(url);
	return ret;
}

/* Map an HTTP error status and the engine's {"message"} to *err. */
static int
http_error(long status, const struct buf *body, const char *method,
    const char *path, struct docker_error *err)
{
	json_t *j = json_loadb(body->s, body->len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	int code = status == 404 ? DOCKER_ENOTFOUND :
	    status == 409 ? DOCKER_ECONFLICT :
	    status == 304 ? DOCKER_ENOTMODIFIED : DOCKER_EHTTP;

	if (m != NULL && *m != '\0') {
		seterr(err, code, (int)status, "%s", m);
		/* one line only */
		for (char *p = err->msg; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		lower_first(err->msg);
	} else {
		seterr(err, code, (int)status, "%s %s: HTTP status %ld", method,
		    path, status);
	}
	json_decref(j);
	return -1;
}

/*
 * A request whose answer is JSON (or empty).  out may be NULL.  The
 * statuses in ok2 (besides 2xx) are also success, e.g. 304.
 */
static int
call(struct docker *d, const char *method, const char *path, int versioned,
    const char *body, const char *auth, long timeout_s, json_t **out,
    struct buf *raw, struct docker_error *err)
{
	struct resp r = { BUF_INIT, DOCKER_MAX_BODY, 0, 0, BUF_INIT, NULL, 0,
	    NULL, "" };
	long status = 0;
	int ret = -1;

	clearerr_(err);
	if (out != NULL)
		*out = NULL;
	if (transport(d, method, path, versioned, body, auth, timeout_s, &r,
	    &status, err) < 0)
		goto done;
	if (status < 200 || status >= 300) {
		http_error(status, &r.body, method, path, err);
		goto done;
	}
	if (raw != NULL) {
		buf_add(raw, r.body.s, r.body.len);
	} else if (out != NULL && r.body.len > 0) {
		json_error_t je;

		*out = json_loadb(r.body.s, r.body.len, JSON_DECODE_ANY, &je);
		if (*out == NULL) {
			seterr(err, DOCKER_EPROTO, (int)status, "%s %s: the "
			    "engine's answer is not JSON: %s", method, path,
			    je.text);
			goto done;
		}
	}
	ret = 0;
done:
	buf_free(&r.body);
	buf_free(&r.line);
	return ret;
}

static char *
esc(struct docker *d, const char *s)
{
	char *e = curl_easy_escape(d->curl, s, 0);
	char *r;

	if (e == NULL)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	r = xstrdup(e);
	curl_free(e);
	return r;
}

/* ---- open and close ---- */

static char *
home_file(const char *envdir, const char *name)
{
	const char *dir = envdir ? getenv(envdir) : NULL;
	const char *home = getenv("HOME");

	if (dir != NULL && *dir != '\0')
		return xasprintf("%s/%s", dir, name);
	return xasprintf("%s/.docker/%s", home && *home ? home : "/root",
	    name);
}

/* GET /_ping: 0 with the Api-Version header in api ("" without one). */
static int
ping_api(struct docker *d, char api[16], struct docker_error *err)
{
	struct resp r = { BUF_INIT, 4096, 0, 0, BUF_INIT, NULL, 0, NULL, "" };
	long status = 0;
	int ret = -1;

	clearerr_(err);
	api[0] = '\0';
	if (transport(d, "GET", "/_ping", 0, NULL, NULL, d->request_s, &r,
	    &status, err) < 0)
		goto out;
	if (status < 200 || status >= 300) {
		http_error(status, &r.body, "GET", "/_ping", err);
		goto out;
	}
	memcpy(api, r.api, sizeof(r.api));
	ret = 0;
out:
	buf_free(&r.body);
	buf_free(&r.line);
	return ret;
}

static struct docker *open_host(const char *host, const char *certdir,
    struct docker_error *err);

struct docker *
docker_open(struct docker_error *err)
{
	const char *host = getenv("DOCKER_HOST");
	const char *tls = getenv("DOCKER_TLS_VERIFY");
	struct docker *d;
	char *certdir = NULL;

	if (host == NULL || *host == '\0')
		host = "unix:///var/run/docker.sock";
	if (tls != NULL && *tls != '\0') {
		const char *cp = getenv("DOCKER_CERT_PATH");

		certdir = cp && *cp ? xstrdup(cp) : home_file(NULL, "");
		/* home_file leaves a trailing '/' */
		if (certdir[0] && certdir[strlen(certdir) - 1] == '/')
			certdir[strlen(certdir) - 1] = '\0';
	}
	d = open_host(host, certdir, err);
	free(certdir);
	return d;
}

static struct docker *
open_host(const char *host, const char *certdir, struct docker_error *err)
{
	struct docker *d;
	json_t *v = NULL;
	const char *api, *pin = getenv("DOCKER_API_VERSION");
	const char *timeout = getenv("KOM_ENGINE_TIMEOUT");
	char pinged[16];
	int maj, min;

	clearerr_(err);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		seterr(err, DOCKER_ESYSTEM, 0, "cannot initialise libcurl");
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->endpoint = xstrdup(host);
	if (getenv("KOM_TEST_ENGINE_LOG") && *getenv("KOM_TEST_ENGINE_LOG"))
		d->trace = xstrdup(getenv("KOM_TEST_ENGINE_LOG"));
	d->connect_s = 5;
	d->request_s = 60;
	d->slow_s = 1800;
	if (timeout && *timeout) {
		char *end;
		long secs;

		errno = 0;
		secs = strtol(timeout, &end, 10);
		if (errno || *end || secs < 1 || secs > 86400) {
			seterr(err, DOCKER_ECONFIG, 0, "KOM_ENGINE_TIMEOUT "
			    "'%s' is not a number of seconds from 1 to 86400",
			    timeout);
			goto fail;
		}
		d->request_s = secs;
	}
	if (strncmp(host, "unix://", 7) == 0 && host[7] == '/') {
		d->sock = xstrdup(host + 7);
		d->base = xstrdup("http://localhost");
		if (certdir != NULL) {
			seterr(err, DOCKER_ECONFIG, 0, "DOCKER_HOST %s: TLS "
			    "is for tcp:// endpoints", host);
			goto fail;
		}
	} else if (strncmp(host, "tcp://", 6) == 0 && host[6] != '\0' &&
	    strpbrk(host + 6, "/?#@ ") == NULL) {
		const char *hp = host + 6;
		const char *colon = strrchr(hp, ':');
		int has_port = colon != NULL && (hp[0] != '[' ||
		    colon > strchr(hp, ']'));

		d->base = xasprintf("%s://%s%s", certdir ? "https" : "http",
		    hp, has_port ? "" : certdir ? ":2376" : ":2375");
		if (certdir != NULL) {
			static const char *const files[] = {
				"ca.pem", "cert.pem", "key.pem"
			};

			for (size_t i = 0; i < KOM_NELEM(files); i++) {
				char *f = xasprintf("%s/%s", certdir, files[i]);
				int r = access(f, R_OK);

				if (r < 0)
					seterr(err, DOCKER_ECONFIG, 0,
					    "cannot read %s: %s", f,
					    strerror(errno));
				free(f);
				if (r < 0)
					goto fail;
			}
			d->certdir = xstrdup(certdir);
		}
	} else {
		seterr(err, DOCKER_ECONFIG, 0, "DOCKER_HOST '%s' is not "
		    "supported: use unix:///path or tcp://host:port", host);
		goto fail;
	}
	d->curl = curl_easy_init();
	if (d->curl == NULL) {
		seterr(err, DOCKER_ESYSTEM, 0, "cannot initialise libcurl");
		goto fail;
	}
	/* the ping's Api-Version header, cheaper than /version, which
	 * asks containerd and runc for theirs */
	if (ping_api(d, pinged, err) < 0)
		goto fail;
	api = pinged;
	if (!*api) {
		if (call(d, "GET", "/version", 0, NULL, NULL, d->request_s, &v,
		    NULL, err) < 0)
			goto fail;
		api = json_string_value(json_object_get(v, "ApiVersion"));
	}
	if (parse_version(api, &maj, &min) < 0) {
		seterr(err, DOCKER_EPROTO, 200, "the Docker engine at %s gave "
		    "no usable ApiVersion", host);
		goto fail;
	}
	if (pin != NULL && *pin != '\0') {
		if (parse_version(pin, &maj, &min) < 0) {
			seterr(err, DOCKER_ECONFIG, 0, "DOCKER_API_VERSION "
			    "'%s' is not a version like 1.41", pin);
			goto fail;
		}
		api = pin;
	} else if (version_cmp(api, DOCKER_API_MAX) > 0) {
		api = DOCKER_API_MAX;
	}
	if (version_cmp(api, DOCKER_API_MIN) < 0) {
		seterr(err, DOCKER_ECONFIG, 0, "the Docker engine at %s "
		    "speaks API %s; kom needs %s or newer", host, api,
		    DOCKER_API_MIN);
		goto fail;
	}
	snprintf(d->version, sizeof(d->version), "%s", api);
	json_decref(v);
	return d;
fail:
	json_decref(v);
	docker_close(d);
	return NULL;
}

void
docker_close(struct docker *d)
{
	if (d == NULL)
		return;
	if (d->curl != NULL)
		curl_easy_cleanup(d->curl);
	free(d->endpoint);
	free(d->sock);
	free(d->base);
	free(d->certdir);
	free(d->trace);
	free(d);
	curl_global_cleanup();
}

struct docker *
docker_clone(const struct docker *d, struct docker_error *err)
{
	struct docker *c;

	clearerr_(err);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		seterr(err, DOCKER_ESYSTEM, 0, "cannot initialise libcurl");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->endpoint = xstrdup(d->endpoint);
	c->sock = d->sock ? xstrdup(d->sock) : NULL;
	c->base = xstrdup(d->base);
	c->certdir = d->certdir ? xstrdup(d->certdir) : NULL;
	c->trace = d->trace ? xstrdup(d->trace) : NULL;
	memcpy(c->version, d->version, sizeof(c->version));
	c->connect_s = d->connect_s;
	c->request_s = d->request_s;
	c->slow_s = d->slow_s;
	if ((c->curl = curl_easy_init()) == NULL) {
		seterr(err, DOCKER_ESYSTEM, 0, "cannot initialise libcurl");
		docker_close(c);
		return NULL;
	}
	return c;
}

int
docker_is_local(const struct docker *d)
{
	return d->sock != NULL;
}

const char *
docker_endpoint(const struct docker *d)
{
	return d->endpoint;
}

const char *
docker_api_version(const struct docker *d)
{
	return d->version;
}

long
docker_request_timeout(const struct docker *d)
{
	return d->request_s;
}

unsigned
docker_timeouts(const struct docker *d)
{
	return d->timeouts;
}

/* ---- system ---- */

int
docker_version(struct docker *d, json_t **out, struct docker_error *err)
{
	return call(d, "GET", "/version", 1, NULL, NULL, d->request_s, out,
	    NULL, err);
}

int
docker_ping(struct docker *d, struct docker_error *err)
{
	struct buf b = BUF_INIT;
	int r = call(d, "GET", "/_ping", 0, NULL, NULL, d->request_s, NULL, &b,
	    err);

	if (r == 0 && strcmp(b.s, "OK") != 0)
		r = seterr(err, DOCKER_EPROTO, 200, "GET /_ping: the engine "
		    "did not answer OK");
	buf_free(&b);
	return r;
}

int
docker_request(struct docker *d, const char *method, const char *path,
    const json_t *body, json_t **out, struct docker_error *err)
{
	char *s = NULL;
	int r;

	if (path[0] != '/')
		return seterr(err, DOCKER_ECONFIG, 0, "%s %s: the path must "
		    "start with '/'", method, path);
	if (body != NULL && (s = json_dumps(body, JSON_COMPACT)) == NULL)
		return seterr(err, DOCKER_ECONFIG, 0, "%s %s: the request "
		    "body cannot be serialized", method, path);
	r = call(d, method, path, 1, s, NULL, d->request_s, out, NULL, err);
	free(s);
	return r;
}

int
docker_events(struct docker *d, long long since_ns, long long until_ns,
    json_t **out, struct docker_error *err)
{
	struct buf b = BUF_INIT;
	char path[96];
	int r;

	*out = NULL;
	if (since_ns < 1 || until_ns < since_ns)
		return seterr(err, DOCKER_ECONFIG, 0, "GET /events: the "
		    "interval %lld..%lld is not a past one", since_ns,
		    until_ns);
	snprintf(path, sizeof(path), "/events?since=%lld.%09lld&until="
	    "%lld.%09lld", since_ns / 1000000000, since_ns % 1000000000,
	    until_ns / 1000000000, until_ns % 1000000000);
	r = call(d, "GET", path, 1, NULL, NULL, d->request_s, NULL, &b, err);
	if (r == 0 && evlog_parse(b.s ? b.s : "", b.len, out) < 0)
		r = seterr(err, DOCKER_EPROTO, 200, "GET /events: the engine's "
		    "answer is not JSON lines of events");
	buf_free(&b);
	return r;
}

/* ---- containers ---- */

/* Append SEP filters={"label":[...]} (URL-encoded JSON) for labels. */
static void
label_filter(struct docker *d, struct buf *path, char sep,
    const char *const *labels)
{
	json_t *f, *a;
	char *s, *e;

	if (labels == NULL || labels[0] == NULL)
		return;
	f = json_object();
	a = json_array();
	for (size_t i = 0; labels[i] != NULL; i++)
		json_array_append_new(a, json_string(labels[i]));
	json_object_set_new(f, "label", a);
	if ((s = json_dumps(f, JSON_COMPACT)) == NULL)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	e = esc(d, s);
	buf_printf(path, "%cfilters=%s", sep, e);
	free(e);
	free(s);
	json_decref(f);
}

/* GET PATH with the label filter: an array in *out. */
static int
list_call(struct docker *d, struct buf *path, char sep,
    const char *const *labels, json_t **out, struct docker_error *err)
{
	size_t n = strcspn(path->s, "?");
	int r;

	label_filter(d, path, sep, labels);
	r = call(d, "GET", path->s, 1, NULL, NULL, d->request_s, out, NULL,
	    err);
	if (r == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		r = seterr(err, DOCKER_EPROTO, 200, "GET %.*s: expected an "
		    "array", (int)n, path->s);
	}
	return r;
}

int
docker_container_list(struct docker *d, const char *const *labels, int all,
    json_t **out, struct docker_error *err)
{
	struct buf path = BUF_INIT;
	int r;

	buf_printf(&path, "/containers/json?all=%d", all ? 1 : 0);
	r = list_call(d, &path, '&', labels, out, err);
	buf_free(&path);
	return r;
}

/* "/containers/ID/what?query" with ID escaped. */
static char *
cpath(struct docker *d, const char *id, const char *what)
{
	char *e = esc(d, id);
	char *p = xasprintf("/containers/%s%s", e, what);

	free(e);
	return p;
}

static int
check_id(const char *id, struct docker_error *err)
{
	if (id == NULL || *id == '\0')
		return seterr(err, DOCKER_ECONFIG, 0, "empty container id or "
		    "name");
	return 0;
}

int
docker_container_inspect(struct docker *d, const char *id, json_t **out,
    struct docker_error *err)
{
	char *p;
	int r;

	if (check_id(id, err) < 0)
		return -1;
	p = cpath(d, id, "/json");
	r = call(d, "GET", p, 1, NULL, NULL, d->request_s, out, NULL, err);
	free(p);
	return r;
}

int
docker_container_create(struct docker *d, const char *name,
    const json_t *body, char id[DOCKER_ID_LEN], struct docker_error *err)
{
	char *p, *s = json_dumps(body, JSON_COMPACT);
	json_t *out = NULL;
	const char *cid;
	int r;

	id[0] = '\0';
	if (s == NULL)
		return seterr(err, DOCKER_ECONFIG, 0, "the container spec "
		    "cannot be serialized");
	if (name != NULL) {
		char *e = esc(d, name);

		p = xasprintf("/containers/create?name=%s", e);
		free(e);
	} else {
		p = xstrdup("/containers/create");
	}
	r = call(d, "POST", p, 1, s, NULL, d->request_s, &out, NULL, err);
	/* the body may hold secrets: wipe our copy */
	explicit_bzero(s, strlen(s));
	free(s);
	if (r == 0) {
		cid = json_string_value(json_object_get(out, "Id"));
		if (cid == NULL || strlen(cid) >= DOCKER_ID_LEN)
			r = seterr(err, DOCKER_EPROTO, 201, "POST "
			    "/containers/create: no container id in the "
			    "answer");
		else
			snprintf(id, DOCKER_ID_LEN, "%s", cid);
	}
	json_decref(out);
	free(p);
	return r;
}

/* POST /containers/ID/WHAT; 304 (nothing to do) is success. */
static int
cpost(struct docker *d, const char *id, const char *what, long timeout_s,
    struct docker_error *err)
{
	char *p;
	int r;

	if (check_id(id, err) < 0)
		return -1;
	p = cpath(d, id, what);
	r = call(d, "POST", p, 1, NULL, NULL, timeout_s, NULL, NULL, err);
	if (r < 0 && err->code == DOCKER_ENOTMODIFIED) {
		clearerr_(err);
		r = 0;
	}
	free(p);
	return r;
}

static int
check_signal(const char *sig, struct docker_error *err)
{
	if (sig == NULL)
		return 0;
	for (const char *c = sig; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-')
			return seterr(err, DOCKER_ECONFIG, 0, "bad signal "
			    "'%s'", sig);
	if (*sig == '\0')
		return seterr(err, DOCKER_ECONFIG, 0, "empty signal name");
	return 0;
}

int
docker_container_start(struct docker *d, const char *id,
    struct docker_error *err)
{
	return cpost(d, id, "/start", d->request_s, err);
}

int
docker_container_stop(struct docker *d, const char *id, const char *signal,
    int timeout_s, struct docker_error *err)
{
	struct buf q = BUF_INIT;
	int r;
	char sep = '?';

	if (check_signal(signal, err) < 0)
		return -1;
	buf_adds(&q, "/stop");
	if (signal != NULL && version_cmp(d->version, "1.42") >= 0) {
		buf_printf(&q, "%csignal=%s", sep, signal);
		sep = '&';
	}
	if (timeout_s >= 0)
		buf_printf(&q, "%ct=%d", sep, timeout_s);
	/* the engine answers after the container stopped */
	r = cpost(d, id, q.s, d->request_s + (timeout_s > 0 ? timeout_s :
	    300), err);
	buf_free(&q);
	return r;
}

int
docker_container_kill(struct docker *d, const char *id, const char *signal,
    struct docker_error *err)
{
	char *q;
	int r;

	if (check_signal(signal, err) < 0)
		return -1;
	q = xasprintf("/kill?signal=%s", signal ? signal : "SIGKILL");
	r = cpost(d, id, q, d->request_s, err);
	free(q);
	return r;
}

int
docker_container_restart(struct docker *d, const char *id, int timeout_s,
    struct docker_error *err)
{
	char q[64] = "/restart";

	if (timeout_s >= 0)
		snprintf(q, sizeof(q), "/restart?t=%d", timeout_s);
	return cpost(d, id, q, d->request_s + (timeout_s > 0 ? timeout_s :
	    300), err);
}

int
docker_container_pause(struct docker *d, const char *id,
    struct docker_error *err)
{
	return cpost(d, id, "/pause", d->request_s, err);
}

int
docker_container_unpause(struct docker *d, const char *id,
    struct docker_error *err)
{
	return cpost(d, id, "/unpause", d->request_s, err);
}

int
docker_container_rename(struct docker *d, const char *id,
    const char *newname, struct docker_error *err)
{
	char *e, *q;
	int r;

	if (newname == NULL || *newname == '\0')
		return seterr(err, DOCKER_ECONFIG, 0, "empty container name");
	e = esc(d, newname);
	q = xasprintf("/rename?name=%s", e);
	r = cpost(d, id, q, d->request_s, err);
	free(q);
	free(e);
	return r;
}

int
docker_container_remove(struct docker *d, const char *id, int force,
    int volumes, struct docker_error *err)
{
	char *p, q[32];
	int r;

	if (check_id(id, err) < 0)
		return -1;
	snprintf(q, sizeof(q), "?force=%d&v=%d", force ? 1 : 0,
	    volumes ? 1 : 0);
	p = cpath(d, id, q);
	r = call(d, "DELETE", p, 1, NULL, NULL, d->request_s, NULL, NULL, err);
	free(p);
	return r;
}

int
docker_container_wait(struct docker *d, const char *id, const char *cond,
    long timeout_s, long *status, struct docker_error *err)
{
	char *p, *q;
	json_t *out = NULL;
	const json_t *sc, *e;
	int r;

	if (check_id(id, err) < 0)
		return -1;
	if (cond == NULL)
		cond = "not-running";
	if (strcmp(cond, "not-running") && strcmp(cond, "next-exit") &&
	    strcmp(cond, "removed"))
		return seterr(err, DOCKER_ECONFIG, 0, "bad wait condition "
		    "'%s'", cond);
	q = xasprintf("/wait?condition=%s", cond);
	p = cpath(d, id, q);
	r = call(d, "POST", p, 1, NULL, NULL, timeout_s > 0 ? timeout_s :
	    d->slow_s, &out, NULL, err);
	if (r == 0) {
		sc = json_object_get(out, "StatusCode");
		e = json_object_get(json_object_get(out, "Error"), "Message");
		if (json_is_string(e) && *json_string_value(e) != '\0') {
			r = seterr(err, DOCKER_EFAILED, 200, "waiting for %s: "
			    "%s", id, json_string_value(e));
		} else if (!json_is_integer(sc)) {
			r = seterr(err, DOCKER_EPROTO, 200, "POST %s: no "
			    "StatusCode in the answer", p);
		} else {
			*status = (long)json_integer_value(sc);
		}
	}
	json_decref(out);
	free(p);
	free(q);
	return r;
}

int
docker_logs_demux(const unsigned char *p, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		size_t len;

		if (n - i < 8 || p[i] > 2 || p[i + 1] || p[i + 2] || p[i + 3])
			return -1;
		len = (size_t)p[i + 4] << 24 | (size_t)p[i + 5] << 16 |
		    (size_t)p[i + 6] << 8 | (size_t)p[i + 7];
		i += 8;
		if (len > n - i)
			return -1;
		buf_add(out, p + i, len);
		i += len;
	}
	return 0;
}

int
docker_container_logs(struct docker *d, const char *id, int tail,
    struct buf *out, struct docker_error *err)
{
	json_t *ins = NULL;
	struct buf raw = BUF_INIT;
	char *p, q[96];
	int r, tty;

	if (docker_container_inspect(d, id, &ins, err) < 0)
		return -1;
	tty = json_is_true(json_object_get(json_object_get(ins, "Config"),
	    "Tty"));
	json_decref(ins);
	if (tail >= 0)
		snprintf(q, sizeof(q), "/logs?stdout=1&stderr=1&tail=%d", tail);
	else
		snprintf(q, sizeof(q), "/logs?stdout=1&stderr=1&tail=all");
	p = cpath(d, id, q);
	d->stall_s = d->request_s;
	r = call(d, "GET", p, 1, NULL, NULL, d->slow_s, NULL, &raw, err);
	d->stall_s = 0;
	if (r == 0) {
		if (tty)
			buf_add(out, raw.s, raw.len);
		else if (docker_logs_demux((const unsigned char *)raw.s,
		    raw.len, out) < 0)
			r = seterr(err, DOCKER_EPROTO, 200, "GET %s: malformed "
			    "log stream frame", p);
	}
	buf_free(&raw);
	free(p);
	return r;
}

/* ---- images ---- */

/* Image references go into paths as they are; refuse what would break. */
static int
check_image(const char *image, struct docker_error *err)
{
	if (image == NULL || *image == '\0')
		return seterr(err, DOCKER_ECONFIG, 0, "empty image name");
	for (const char *c = image; *c; c++)
		if (!isgraph((unsigned char)*c) || strchr("?#%&\"\\", *c))
			return seterr(err, DOCKER_ECONFIG, 0, "bad image "
			    "reference '%s'", image);
	return 0;
}

int
docker_image_inspect(struct docker *d, const char *image, json_t **out,
    struct docker_error *err)
{
	char *p;
	int r;

	if (check_image(image, err) < 0)
		return -1;
	p = xasprintf("/images/%s/json", image);
	r = call(d, "GET", p, 1, NULL, NULL, d->request_s, out, NULL, err);
	free(p);
	return r;
}

/* A usable image reference and the X-Registry-Auth for its registry. */
static int
image_auth(const char *image, const char *fallback, char **auth,
    struct docker_error *err)
{
	char domain[256];

	*auth = NULL;
	if (check_image(image, err) < 0)
		return -1;
	if (docker_registry_domain(image, domain, sizeof(domain)) < 0)
		return seterr(err, DOCKER_ECONFIG, 0, "image '%s': registry "
		    "name too long", image);
	if (docker_registry_auth(domain, auth, err) < 0)
		return -1;
	if (!*auth && fallback)
		*auth = xstrdup(fallback);
	return 0;
}

int
docker_image_probe(struct docker *d, const char *image, json_t **out,
    struct docker_error *err)
{
	char *auth = NULL, *e, *p;
	json_t *o = NULL;
	int r;

	clearerr_(err);
	if (out != NULL)
		*out = NULL;
	if (image_auth(image, NULL, &auth, err) < 0)
		return -1;
	e = esc(d, image);
	p = xasprintf("/distribution/%s/json", e);
	r = call(d, "GET", p, 1, NULL, auth, d->request_s, &o, NULL, err);
	if (out != NULL)
		*out = o;
	else
		json_decref(o);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(p);
	free(e);
	return r;
}

size_t
docker_registry_len(const char *image)
{
	const char *slash = strchr(image, '/');
	size_t n;

	if (!slash)
		return 0;
	n = (size_t)(slash - image);
	return memchr(image, '.', n) || memchr(image, ':', n) ||
	    (n == 9 && strncmp(image, "localhost", 9) == 0) ? n : 0;
}

int
docker_registry_domain(const char *image, char *out, size_t size)
{
	size_t n = docker_registry_len(image);

	if (n) {
		if (n + 1 > size)
			return -1;
		memcpy(out, image, n);
		out[n] = '\0';
		return 0;
	}
	if (size < sizeof("docker.io"))
		return -1;
	memcpy(out, "docker.io", sizeof("docker.io"));
	return 0;
}

/* The host part of a config.json auths key: "https://h/v1/" -> "h". */
static char *
auth_key_host(const char *k)
{
	const char *p = strstr(k, "://");
	size_t n;

	if (p != NULL)
		k = p + 3;
	n = strcspn(k, "/");
	return xstrndup(k, n);
}

static int
key_matches(const char *key, const char *domain)
{
	char *h = auth_key_host(key);
	int r = strcmp(h, domain) == 0;

	if (!r && strcmp(domain, "docker.io") == 0)
		r = strcmp(h, "index.docker.io") == 0 ||
		    strcmp(h, "registry-1.docker.io") == 0;
	free(h);
	return r;
}

static char *
b64url(const unsigned char *p, size_t n)
{
	char *out = xmalloc(st_add(st_mul((n + 2) / 3, 4), 1));
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* base64 "user:password" -> user, password; -1 when malformed. */
static int
decode_auth(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64);
	unsigned char *out;
	int len;
	char *colon;

	if (n == 0 || n % 4 != 0 || n > 65536)
		return -1;
	out = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(out);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n >= 1 && b64[n - 1] == '=')
		len--;
	if (n >= 2 && b64[n - 2] == '=')
		len--;
	out[len] = '\0';
	colon = memchr(out, ':', (size_t)len);
	if (colon == NULL || memchr(out, '\0', (size_t)len) != NULL) {
		explicit_bzero(out, (size_t)len);
		free(out);
		return -1;
	}
	*user = xstrndup((char *)out, (size_t)(colon - (char *)out));
	*pass = xstrdup(colon + 1);
	explicit_bzero(out, (size_t)len);
	free(out);
	return 0;
}

/* base64url of the JSON object o (consumed), wiped after use. */
static char *
auth_encode(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT), *h;

	json_decref(o);
	if (!s)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	h = b64url((unsigned char *)s, strlen(s));
	explicit_bzero(s, strlen(s));
	free(s);
	return h;
}

char *
docker_registry_auth_value(const char *user, const char *password,
    const char *domain)
{
	return auth_encode(json_pack("{s:s,s:s,s:s}", "username", user,
	    "password", password, "serveraddress", domain));
}

int
docker_registry_auth(const char *domain, char **header,
    struct docker_error *err)
{
	char *path = home_file("DOCKER_CONFIG", "config.json");
	struct buf b = BUF_INIT;
	json_t *cfg = NULL, *auths, *e, *hj;
	json_error_t je;
	const char *k;
	char *user = NULL, *pass = NULL;
	int r = 0;

	*header = NULL;
	clearerr_(err);
	if (file_read(path, &b, CONFIG_JSON_MAX) < 0) {
		if (errno != ENOENT)
			r = seterr(err, DOCKER_ECONFIG, 0, "%s: %s", path,
			    errno == EFBIG ? "larger than 1 MiB" :
			    strerror(errno));
		goto out;
	}
	cfg = json_loadb(b.s, b.len, 0, &je);
	if (!json_is_object(cfg)) {
		r = seterr(err, DOCKER_ECONFIG, 0, "%s:%d:%d: %s", path,
		    cfg ? 1 : je.line, cfg ? 1 : je.column,
		    cfg ? "expected a JSON object" : je.text);
		goto out;
	}
	auths = json_object_get(cfg, "auths");
	json_object_foreach(auths, k, e) {
		const char *a = json_string_value(json_object_get(e, "auth"));
		const char *u = json_string_value(json_object_get(e,
		    "username"));
		const char *pw = json_string_value(json_object_get(e,
		    "password"));
		const char *tok = json_string_value(json_object_get(e,
		    "identitytoken"));

		if (!key_matches(k, domain))
			continue;
		if (a != NULL && *a != '\0') {
			if (decode_auth(a, &user, &pass) < 0) {
				r = seterr(err, DOCKER_ECONFIG, 0, "%s: the "
				    "\"auth\" of %s is not base64 of "
				    "user:password", path, k);
				goto out;
			}
		} else if (u != NULL && pw != NULL) {
			user = xstrdup(u);
			pass = xstrdup(pw);
		} else if (tok != NULL) {
			hj = json_pack("{s:s,s:s}", "identitytoken", tok,
			    "serveraddress", domain);
			goto encode;
		} else {
			continue;
		}
		hj = json_pack("{s:s,s:s,s:s}", "username", user, "password",
		    pass, "serveraddress", domain);
		goto encode;
	}
	goto out;
encode:
	*header = auth_encode(hj);
	r = 1;
out:
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	free(user);
	json_decref(cfg);
	explicit_bzero(b.s, b.len);
	buf_free(&b);
	free(path);
	return r;
}

int
docker_image_pull(struct docker *d, const char *image,
    struct docker_error *err)
{
	return docker_image_pull_auth(d, image, NULL, err);
}

int
docker_image_pull_auth(struct docker *d, const char *image,
    const char *fallback, struct docker_error *err)
{
	struct resp r = { BUF_INIT, DOCKER_MAX_BODY, 0, 1, BUF_INIT, NULL, 0,
	    NULL, "" };
	char *auth = NULL, *repo, *tag, *p, *er, *et;
	const char *slash, *at, *colon;
	long status = 0;
	int ret = -1, r_ok;

	clearerr_(err);
	if (image_auth(image, fallback, &auth, err) < 0)
		return -1;
	slash = strrchr(image, '/');
	at = strchr(image, '@');
	colon = strrchr(at ? (const char *)at : image, ':');
	if (at != NULL) {
		/* repo[:tag]@digest: the digest wins */
		const char *c = memrchr(image, ':', (size_t)(at - image));

		if (c != NULL && (slash == NULL || c > slash))
			repo = xstrndup(image, (size_t)(c - image));
		else
			repo = xstrndup(image, (size_t)(at - image));
		tag = xstrdup(at + 1);
	} else if (colon != NULL && (slash == NULL || colon > slash)) {
		repo = xstrndup(image, (size_t)(colon - image));
		tag = xstrdup(colon + 1);
	} else {
		repo = xstrdup(image);
		tag = xstrdup("latest");
	}
	er = esc(d, repo);
	et = esc(d, tag);
	p = xasprintf("/images/create?fromImage=%s&tag=%s", er, et);
	d->stall_s = d->request_s;
	r_ok = transport(d, "POST", p, 1, NULL, auth, d->slow_s, &r, &status,
	    err);
	d->stall_s = 0;
	if (r_ok < 0)
		goto out;
	if (status < 200 || status >= 300) {
		/* the error answer is one {"message"} object */
		seterr(err, status == 404 ? DOCKER_ENOTFOUND : DOCKER_EHTTP,
		    (int)status, "pulling %s: %s", image, r.stream_error ?
		    r.stream_error : "the engine refused the pull");
		goto out;
	}
	if (r.stream_error != NULL) {
		seterr(err, DOCKER_EFAILED, (int)status, "pulling %s: %s",
		    image, r.stream_error);
		goto out;
	}
	if (r.stream_bad) {
		seterr(err, DOCKER_EPROTO, (int)status, "pulling %s: malformed "
		    "progress stream", image);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		lower_first(err->msg);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(r.aux);
	free(r.stream_error);
	buf_free(&r.body);
	buf_free(&r.line);
	free(p);
	free(er);
	free(et);
	free(repo);
	free(tag);
	return ret;
}

/* ---- builds and pushes ---- */

/* POST path (a streaming call) and read its progress stream: 0, or -1. */
static int
stream_call(struct docker *d, const char *what, const char *path,
    const char *body, const char *auth, char **aux, struct docker_error *err)
{
	struct resp r = { BUF_INIT, DOCKER_MAX_BODY, 0, 1, BUF_INIT, NULL, 0,
	    NULL, "" };
	long status = 0;
	int ret = -1;

	d->stall_s = d->request_s;
	if (transport(d, "POST", path, 1, body, auth, d->slow_s, &r, &status,
	    err) < 0)
		goto out;
	if (status < 200 || status >= 300) {
		seterr(err, status == 404 ? DOCKER_ENOTFOUND : DOCKER_EHTTP,
		    (int)status, "%s: %s", what, r.stream_error ?
		    r.stream_error : "the engine refused it");
		goto out;
	}
	if (r.stream_error != NULL) {
		seterr(err, DOCKER_EFAILED, (int)status, "%s: %s", what,
		    r.stream_error);
		goto out;
	}
	if (r.stream_bad) {
		seterr(err, DOCKER_EPROTO, (int)status, "%s: malformed "
		    "progress stream", what);
		goto out;
	}
	if (aux) {
		*aux = r.aux;
		r.aux = NULL;
	}
	ret = 0;
out:
	d->stall_s = 0;
	if (ret < 0)
		lower_first(err->msg);
	free(r.aux);
	free(r.stream_error);
	buf_free(&r.body);
	buf_free(&r.line);
	return ret;
}

int
docker_image_build(struct docker *d, const char *query, const void *tar,
    size_t len, char **id, struct docker_error *err)
{
	char *p = xasprintf("/build?%s", query);
	int r;

	clearerr_(err);
	*id = NULL;
	d->body_len = len;
	d->body_type = "application/x-tar";
	r = stream_call(d, "building", p, tar, NULL, id, err);
	d->body_len = 0;
	d->body_type = NULL;
	free(p);
	return r;
}

int
docker_image_push(struct docker *d, const char *repo, const char *tag,
    const char *fallback, char **digest, struct docker_error *err)
{
	char *auth = NULL, *er, *et, *p, *what;
	int r;

	clearerr_(err);
	*digest = NULL;
	if (image_auth(repo, fallback, &auth, err) < 0)
		return -1;
	if (!auth)	/* the engine wants the header, even empty */
		auth = xstrdup("e30=");
	er = esc(d, repo);
	et = esc(d, tag);
	p = xasprintf("/images/%s/push?tag=%s", er, et);
	what = xasprintf("pushing %s:%s", repo, tag);
	r = stream_call(d, what, p, NULL, auth, digest, err);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	free(what);
	free(p);
	free(er);
	free(et);
	return r;
}

/* ---- networks ---- */

/* METHOD /networks/NAME (name or id escaped). */
static int
network_call(struct docker *d, const char *method, const char *name,
    json_t **out, struct docker_error *err)
{
	char *e, *p;
	int r;

	if (name == NULL || *name == '\0')
		return seterr(err, DOCKER_ECONFIG, 0, "empty network name");
	e = esc(d, name);
	p = xasprintf("/networks/%s", e);
	r = call(d, method, p, 1, NULL, NULL, d->request_s, out, NULL, err);
	free(p);
	free(e);
	return r;
}

int
docker_network_inspect(struct docker *d, const char *name, json_t **out,
    struct docker_error *err)
{
	return network_call(d, "GET", name, out, err);
}

int
docker_network_list(struct docker *d, const char *const *labels,
    json_t **out, struct docker_error *err)
{
	struct buf path = BUF_INIT;
	int r;

	buf_adds(&path, "/networks");
	r = list_call(d, &path, '?', labels, out, err);
	buf_free(&path);
	return r;
}

int
docker_network_remove(struct docker *d, const char *id,
    struct docker_error *err)
{
	return network_call(d, "DELETE", id, NULL, err);
}

int
docker_network_create(struct docker *d, const char *name, const char *driver,
    struct docker_error *err)
{
	json_t *b = json_pack("{s:s,s:b}", "Name", name ? name : "",
	    "CheckDuplicate", 1);
	char *s;
	int r;

	if (name == NULL || *name == '\0') {
		json_decref(b);
		return seterr(err, DOCKER_ECONFIG, 0, "empty network name");
	}
	if (driver != NULL)
		json_object_set_new(b, "Driver", json_string(driver));
	s = json_dumps(b, JSON_COMPACT);
	r = call(d, "POST", "/networks/create", 1, s, NULL, d->request_s, NULL,
	    NULL, err);
	free(s);
	json_decref(b);
	return r;
}
