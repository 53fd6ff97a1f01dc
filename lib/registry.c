/* registry: manifest digests over the Registry HTTP API v2 (registry.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "docker.h"
#include "registry.h"
#include "util.h"
#include "banned.h"

#define MAX_HEADER 8192
#define MAX_BODY (64u << 10)

static const char accept_hdr[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

void
registry_challenge_free(struct registry_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

int
registry_challenge_parse(const char *h, struct registry_challenge *c)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	const char *p = h;
	size_t n;
	char **dst;

	memset(c, 0, sizeof(*c));
	while (*p == ' ' || *p == '\t')
		p++;
	for (n = 0; p[n] && p[n] != ' ' && p[n] != '\t'; n++)
		;
	if (!n || n >= sizeof(c->scheme))
		return -1;
	memcpy(c->scheme, p, n);
	c->scheme[n] = '\0';
	p += n;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		buf_reset(&k);
		buf_reset(&v);
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			buf_addc(&k, tolower((unsigned char)*p++));
		if (*p != '=')
			goto bad;
		p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_addc(&v, *p);
			}
			if (*p != '"')
				goto bad;
			p++;
		} else
			while (*p && *p != ',' && *p != ' ')
				buf_addc(&v, *p++);
		dst = !strcmp(k.s, "realm") ? &c->realm :
		    !strcmp(k.s, "service") ? &c->service :
		    !strcmp(k.s, "scope") ? &c->scope : NULL;
		if (dst) {
			free(*dst);
			*dst = xstrdup(v.s);
		}
	}
	buf_free(&k);
	buf_free(&v);
	return 0;
bad:
	buf_free(&k);
	buf_free(&v);
	registry_challenge_free(c);
	return -1;
}

void
registry_ref_free(struct registry_ref *r)
{
	free(r->host);
	free(r->domain);
	free(r->repo);
	free(r->tag);
	memset(r, 0, sizeof(*r));
}

int
registry_ref_parse(const char *image, struct registry_ref *r)
{
	size_t hl = docker_registry_len(image);
	const char *rest = hl ? image + hl + 1 : image, *at, *slash, *colon;
	char *repo;

	memset(r, 0, sizeof(*r));
	if (!*image || strpbrk(image, " \t\r\n"))
		return -1;
	if (hl) {
		r->host = xstrndup(image, hl);
		r->domain = xstrdup(r->host);
	} else {
		r->host = xstrdup("registry-1.docker.io");
		r->domain = xstrdup("docker.io");
	}
	if ((at = strchr(rest, '@'))) {
		r->pinned = 1;
		repo = xstrndup(rest, (size_t)(at - rest));
	} else
		repo = xstrdup(rest);
	slash = strrchr(repo, '/');
	colon = strrchr(repo, ':');
	if (colon && (!slash || colon > slash)) {
		r->tag = xstrdup(colon + 1);
		repo[colon - repo] = '\0';
	} else
		r->tag = xstrdup("latest");
	/* the characters the distribution spec allows, so that nothing
	 * else reaches a URL */
	if (!*repo || !*r->tag || strlen(r->tag) > 128 ||
	    strspn(r->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
	    "XYZ0123456789.-:[]") != strlen(r->host) ||
	    strspn(repo, "abcdefghijklmnopqrstuvwxyz0123456789._/-") !=
	    strlen(repo) || strspn(r->tag, "abcdefghijklmnopqrstuvwxyzABCDEF"
	    "GHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(r->tag) ||
	    repo[0] == '/' || strstr(repo, "//") || strstr(repo, "..") ||
	    (at && strspn(at + 1, "sha256:0123456789abcdef") !=
	    strlen(at + 1))) {
		free(repo);
		registry_ref_free(r);
		return -1;
	}
	r->repo = !hl && !strchr(repo, '/') ? xasprintf("library/%s", repo) :
	    xstrdup(repo);
	free(repo);
	return 0;
}

struct resp {
	struct buf body;
	char *digest, *auth;
	size_t hbytes;
};

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n, k;
	char *line, *v;

	r->hbytes += len;
	if (r->hbytes > MAX_HEADER * 4)
		return 0;
	if (len > MAX_HEADER)
		return len;
	line = xstrndup(p, len);
	while ((k = strlen(line)) && (line[k - 1] == '\r' ||
	    line[k - 1] == '\n'))
		line[k - 1] = '\0';
	if ((v = strchr(line, ':'))) {
		*v++ = '\0';
		while (*v == ' ')
			v++;
		if (!strcasecmp(line, "Docker-Content-Digest")) {
			free(r->digest);
			r->digest = xstrdup(v);
		} else if (!strcasecmp(line, "WWW-Authenticate")) {
			free(r->auth);
			r->auth = xstrdup(v);
		}
	} else if (!strncmp(line, "HTTP/", 5)) {
		/* a new response (after a redirect): forget the last one's */
		free(r->digest);
		free(r->auth);
		r->digest = r->auth = NULL;
	}
	free(line);
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;

	if (r->body.len + size * n > MAX_BODY)
		return 0;
	buf_add(&r->body, p, size * n);
	return size * n;
}

/* One request: its HTTP status, or -1 with err. */
static long
request(const char *url, int head, const char *userpwd, const char *bearer,
    long timeout_ms, struct resp *r, struct buf *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *authz = NULL;
	CURLcode cc;
	long code = -1;

	if (!c) {
		buf_adds(err, "libcurl: cannot start a request");
		return -1;
	}
	h = curl_slist_append(h, accept_hdr);
	if (bearer) {
		authz = xasprintf("Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, authz);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (userpwd)
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	if ((cc = curl_easy_perform(c)) != CURLE_OK)
		buf_printf(err, "%s: %s", url, curl_easy_strerror(cc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(authz);
	return code;
}

/* config.json's "user:password" for domain, fresh, or NULL. */
static char *
credentials(const char *domain, struct buf *err)
{
	struct docker_error de;
	char *hdr = NULL, *s, *r = NULL;
	unsigned char *raw;
	size_t n, i;
	int k;
	json_t *j;

	if (docker_registry_auth(domain, &hdr, &de) <= 0)
		return NULL;
	/* base64url of {"username","password",...} */
	n = strlen(hdr);
	s = xmalloc(n + 4);
	for (i = 0; i < n; i++)
		s[i] = hdr[i] == '-' ? '+' : hdr[i] == '_' ? '/' : hdr[i];
	while (i % 4)
		s[i++] = '=';
	s[i] = '\0';
	raw = xmalloc(i + 1);
	k = EVP_DecodeBlock(raw, (unsigned char *)s, (int)i);
	if (k > 0) {
		while (k > 0 && raw[k - 1] == '\0')
			k--;
		j = json_loadb((const char *)raw, (size_t)k, 0, NULL);
		if (json_string_value(json_object_get(j, "username")))
			r = xasprintf("%s:%s", json_string_value(
			    json_object_get(j, "username")),
			    json_string_value(json_object_get(j, "password")) ?
			    json_string_value(json_object_get(j, "password")) :
			    "");
		json_decref(j);
	}
	if (!r)
		buf_printf(err, "config.json: unreadable credentials for %s",
		    domain);
	free(raw);
	free(s);
	free(hdr);
	return r;
}

static int
loopback(const char *host)
{
	return !strncmp(host, "localhost", 9) || !strncmp(host, "127.", 4) ||
	    !strncmp(host, "[::1]", 5);
}

static void
resp_free(struct resp *r)
{
	buf_free(&r->body);
	free(r->digest);
	free(r->auth);
	memset(r, 0, sizeof(*r));
}

int
registry_digest(const char *image, const char *login, long timeout_ms,
    char **digest, struct buf *err)
{
	struct registry_ref ref;
	struct registry_challenge ch;
	struct resp r, t;
	char *url = NULL, *turl = NULL, *cred = NULL, *esc;
	const char *tok;
	json_t *j = NULL;
	long code;
	int rc = -1;
	CURL *e = NULL;

	*digest = NULL;
	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	memset(&ch, 0, sizeof(ch));
	if (registry_ref_parse(image, &ref) < 0) {
		buf_printf(err, "'%s' is not an image reference", image);
		return -1;
	}
	url = xasprintf("%s://%s/v2/%s/manifests/%s", loopback(ref.host) ?
	    "http" : "https", ref.host, ref.repo, ref.tag);
	code = request(url, 1, NULL, NULL, timeout_ms, &r, err);
	if (code == 401 && r.auth &&
	    registry_challenge_parse(r.auth, &ch) == 0) {
		cred = credentials(ref.domain, err);
		if (!cred && !err->len && login)
			cred = xstrdup(login);
		resp_free(&r);
		if (!strcasecmp(ch.scheme, "Basic")) {
			if (!cred) {
				buf_printf(err, "%s: the registry asks for a "
				    "login and neither config.json nor an "
				    "account of kom.toml's [[docker_registry]] "
				    "has one for %s", image, ref.domain);
				goto out;
			}
			code = request(url, 1, cred, NULL, timeout_ms, &r,
			    err);
		} else if (!strcasecmp(ch.scheme, "Bearer") && ch.realm) {
			e = curl_easy_init();
			turl = xasprintf("%s%s", ch.realm, strchr(ch.realm,
			    '?') ? "&" : "?");
			if (ch.service) {
				esc = curl_easy_escape(e, ch.service, 0);
				turl = xrealloc(turl, strlen(turl) +
				    strlen(esc) + 10);
				memcpy(turl + strlen(turl), "service=", 9);
				memcpy(turl + strlen(turl), esc,
				    strlen(esc) + 1);
				curl_free(esc);
			}
			esc = curl_easy_escape(e, ch.scope ? ch.scope : "", 0);
			turl = xrealloc(turl, strlen(turl) + strlen(esc) + 10);
			memcpy(turl + strlen(turl), "&scope=", 8);
			memcpy(turl + strlen(turl), esc, strlen(esc) + 1);
			curl_free(esc);
			if (request(turl, 0, cred, NULL, timeout_ms, &t, err) !=
			    200) {
				if (!err->len)
					buf_printf(err, "%s: no token from %s",
					    image, ch.realm);
				goto out;
			}
			j = json_loadb(t.body.s, t.body.len, 0, NULL);
			tok = json_string_value(json_object_get(j, "token"));
			if (!tok)
				tok = json_string_value(json_object_get(j,
				    "access_token"));
			if (!tok) {
				buf_printf(err, "%s: %s answered no token",
				    image, ch.realm);
				goto out;
			}
			code = request(url, 1, NULL, tok, timeout_ms, &r, err);
		}
	}
	if (code < 0)
		goto out;
	if (code != 200 || !r.digest) {
		buf_printf(err, "%s: the registry answered %ld%s", image, code,
		    code == 200 ? " without Docker-Content-Digest" :
		    code == 401 ? " (not authorized)" : code == 404 ?
		    " (no such tag)" : "");
		goto out;
	}
	if (strncmp(r.digest, "sha256:", 7) || strlen(r.digest) != 71 ||
	    strspn(r.digest + 7, "0123456789abcdef") != 64) {
		buf_printf(err, "%s: not a digest: '%.80s'", image, r.digest);
		goto out;
	}
	*digest = xstrdup(r.digest);
	rc = 0;
out:
	if (cred)
		OPENSSL_cleanse(cred, strlen(cred));
	free(cred);
	if (e)
		curl_easy_cleanup(e);
	json_decref(j);
	resp_free(&r);
	resp_free(&t);
	registry_challenge_free(&ch);
	registry_ref_free(&ref);
	free(url);
	free(turl);
	return rc;
}
