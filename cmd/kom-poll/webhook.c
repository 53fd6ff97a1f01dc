/*
 * kom-poll webhook: a git host's push becomes an event in SPOOL/sync/new
 *
 * One request per process on stdin/stdout (inetd, systemd Accept=yes), or
 * -l ADDR:PORT: listen and fork one process per connection, at most -c at
 * once.  The path is Komodo's (komodo-behaviour.md 7.2),
 * /listener/PROVIDER/TYPE/NAME/ACTION; the proof is checked against the
 * resource's webhook_secret, else the host's, in constant time (7.3); the
 * pushed branch must be the resource's (7.4).  Every answer says why in
 * its body and on stderr.  See kom-poll(1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "gitsrc.h"
#include "httpreq.h"
#include "jsonl.h"
#include "paths.h"
#include "poll.h"
#include "resource.h"
#include "secrets.h"
#include "spool.h"
#include "util.h"
#include "webhook.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-poll webhook [-b bytes] [-c count] [-l address:port] "
    "[-t seconds]";

struct hook {
	size_t max_body;
	int timeout_ms;
};

/* What the path names. */
struct target {
	enum webhook_provider prov;
	const char *provname;
	char *type;		/* "sync", "stack", ... as in the path */
	char *name;
	char *action;		/* "sync", "deploy", a branch...; "" */
};

static void
answer(int out, int status, const char *why, const struct httpreq *rq)
{
	struct buf b = BUF_INIT;
	size_t off = 0;
	ssize_t k;

	kom_warn("webhook: %d %s: %s", status, rq && rq->target ?
	    rq->target : "-", why);
	buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s\n", status, httpreq_reason(status), strlen(why) + 1, why);
	while (off < b.len) {
		k = write(out, b.s + off, b.len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	buf_free(&b);
}

/* Percent-decode one path segment: fresh, or NULL (bad, NUL or '/'). */
static char *
pct_decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;
	int hi, lo, c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				goto bad;
			hi = kom_hexval(s[i + 1] | 0x20);
			lo = kom_hexval(s[i + 2] | 0x20);
			if (hi < 0 || lo < 0)
				goto bad;
			c = hi << 4 | lo;
			i += 2;
			if (!c || c == '/')
				goto bad;
		}
		buf_addc(&b, c);
	}
	return buf_release(&b);
bad:
	buf_free(&b);
	return NULL;
}

/* 0, or 404 with the reason. */
static int
parse_target(const char *path, struct target *t, struct buf *why)
{
	static const char *const types[] = { "sync", "stack", "repo",
	    "build", "procedure", "action" };
	char *seg[6];
	const char *p = path + 1, *e;
	size_t n = 0, i;
	int rc = 404;

	memset(t, 0, sizeof(*t));
	while (n < 6) {
		e = strchr(p, '/');
		if (!(seg[n] = pct_decode(p, e ? (size_t)(e - p) :
		    strlen(p))))
			goto out;
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	if (n < 4 || n > 5 || (n == 5 && !*seg[4]) ||
	    strcmp(seg[0], "listener") || !*seg[3])
		goto out;
	if (!strcmp(seg[1], "github")) {
		t->prov = WEBHOOK_GITHUB;
		t->provname = "github";
	} else if (!strcmp(seg[1], "gitlab")) {
		t->prov = WEBHOOK_GITLAB;
		t->provname = "gitlab";
	} else if (!strcmp(seg[1], "gitea") || !strcmp(seg[1], "forgejo")) {
		t->prov = WEBHOOK_GITEA;
		t->provname = "gitea";
	} else
		goto out;
	for (i = 0; i < KOM_NELEM(types); i++)
		if (!strcmp(seg[2], types[i]))
			break;
	if (i == KOM_NELEM(types))
		goto out;
	t->type = xstrdup(seg[2]);
	t->name = xstrdup(seg[3]);
	t->action = xstrdup(n == 5 ? seg[4] : "");
	/* Komodo's actions, per type */
	if ((!strcmp(t->type, "sync") && strcmp(t->action, "sync") &&
	    strcmp(t->action, "refresh")) ||
	    (!strcmp(t->type, "stack") && strcmp(t->action, "deploy") &&
	    strcmp(t->action, "refresh")) ||
	    (!strcmp(t->type, "repo") && strcmp(t->action, "clone") &&
	    strcmp(t->action, "pull") && strcmp(t->action, "build")) ||
	    (!strcmp(t->type, "build") && *t->action) ||
	    ((!strcmp(t->type, "procedure") || !strcmp(t->type, "action")) &&
	    !*t->action)) {
		buf_printf(why, "no action '%s' for a %s", t->action,
		    t->type);
		goto out;
	}
	rc = 0;
out:
	if (rc && !why->len)
		buf_printf(why, "no listener at '%s'", path);
	for (i = 0; i < n; i++)
		free(seg[i]);
	return rc;
}

static void
target_free(struct target *t)
{
	free(t->type);
	free(t->name);
	free(t->action);
}

/* The record type of a path's type. */
static const char *
rec_type(const char *type)
{
	return !strcmp(type, "sync") ? "resource_sync" : type;
}

/* The host's secret: kom.toml's webhook_secret, else the secret file. */
static char *
host_secret(const struct config *cfg)
{
	struct secrets sec;
	char *v = NULL, *where = NULL;

	if (cfg->webhook_secret && *cfg->webhook_secret)
		return xstrdup(cfg->webhook_secret);
	secrets_init(&sec, cfg->secrets_dir);
	if (secrets_read(&sec, "webhook_secret", &v, &where) < 0)
		v = NULL;
	if (v)
		v[strcspn(v, "\r\n")] = '\0';
	free(where);
	secrets_free(&sec);
	return v;
}

struct found {
	const struct config_sync *sync;	/* the sync it is in (or is) */
	const json_t *rec;		/* NULL for a sync */
	char *branch;
	const char *secret;		/* the resource's, "" none */
	int enabled;
	json_t *recs;
};

/* Find t's resource: 0, or 404. */
static int
find(const struct config *cfg, const char *statedir, const struct target *t,
    struct found *f, struct buf *why)
{
	const char *type = rec_type(t->type);
	const json_t *rec, *c;
	struct gitsrc src;
	struct buf err = BUF_INIT;
	size_t i, j;

	memset(f, 0, sizeof(*f));
	if (!strcmp(t->type, "sync")) {
		if (!(f->sync = config_sync(cfg, t->name))) {
			buf_printf(why, "no resource_sync '%s' in %s", t->name,
			    cfg->path);
			return 404;
		}
		f->branch = xstrdup(f->sync->branch);
		f->secret = f->sync->webhook_secret;
		f->enabled = f->sync->webhook_enabled;
		return 0;
	}
	for (i = 0; i < cfg->nsyncs && !f->rec; i++) {
		json_decref(f->recs);
		f->recs = poll_sync_records(cfg, &cfg->syncs[i], statedir);
		for (j = 0; j < json_array_size(f->recs); j++) {
			rec = json_array_get(f->recs, j);
			if (!strcmp(jsonl_str(rec, "type", ""), type) &&
			    !strcmp(jsonl_str(rec, "name", ""), t->name)) {
				f->rec = rec;
				f->sync = &cfg->syncs[i];
				break;
			}
		}
	}
	if (!f->rec) {
		buf_printf(why, "no %s '%s' in the syncs of %s", t->type,
		    t->name, cfg->path);
		return 404;
	}
	c = json_object_get(f->rec, "config");
	f->secret = jsonl_str(c, "webhook_secret", "");
	f->enabled = !json_is_false(json_object_get(c, "webhook_enabled"));
	memset(&src, 0, sizeof(src));
	if (!strcmp(t->type, "procedure") || !strcmp(t->type, "action"))
		f->branch = xstrdup(t->action);
	else if (gitsrc_record(&cfg->git, f->rec, f->recs, &src, &err) > 0)
		f->branch = xstrdup(src.branch);
	else
		f->branch = xstrdup(jsonl_str(c, "branch", "main"));
	gitsrc_free(&src);
	buf_free(&err);
	return 0;
}

static json_t *
event_new(const struct target *t, const struct found *f,
    const struct webhook_push *p, const struct httpreq *rq)
{
	json_t *ev;
	const char *d;

	ev = json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:s},s:s,s:s,s:s}", "kind",
	    "event", "source", "webhook", "ts", (json_int_t)kom_wall_ms(),
	    "sync", f->sync->name, "target", "type", rec_type(t->type),
	    "name", t->name, "action", *t->action ? t->action : "build",
	    "provider", t->provname, "branch", p->branch);
	if (!ev)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	json_object_set_new(ev, "repo", p->repo ? json_string(p->repo) :
	    json_null());
	json_object_set_new(ev, "before", p->before ?
	    json_string(p->before) : json_null());
	json_object_set_new(ev, "after", p->after ? json_string(p->after) :
	    json_null());
	json_object_set(ev, "changed", p->changed);
	if (p->truncated)
		json_object_set_new(ev, "changed_truncated", json_true());
	if ((d = httpreq_header(rq, "X-GitHub-Delivery")) ||
	    (d = httpreq_header(rq, "X-Gitea-Delivery")) ||
	    (d = httpreq_header(rq, "X-Gitlab-Event-UUID")))
		json_object_set_new(ev, "delivery", json_string(d));
	return ev;
}

/* One request from in, its answer to out. */
static void
serve(const struct hook *h, int in, int out)
{
	struct httpreq rq;
	struct buf why = BUF_INIT;
	struct kom_paths kp;
	struct config cfg;
	struct target t;
	struct found f;
	struct webhook_push push;
	char *hsecret = NULL, *ev = NULL, *line, *name = NULL;
	const char *secret;
	json_t *e;
	int st, have_cfg = 0;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	memset(&push, 0, sizeof(push));
	memset(&kp, 0, sizeof(kp));
	if ((st = httpreq_read(in, out, h->max_body, kom_mono_ms() +
	    h->timeout_ms, &rq, &why))) {
		answer(out, st, why.s, &rq);
		goto out;
	}
	if (strcmp(rq.method, "POST")) {
		answer(out, 405, "only POST is served", &rq);
		goto out;
	}
	if ((st = parse_target(rq.target, &t, &why))) {
		answer(out, st, why.s, &rq);
		goto out;
	}
	paths_get(&kp);
	if (config_load(kp.config, 0, &cfg) < 0) {
		answer(out, 503, "kom.toml cannot be read", &rq);
		goto out;
	}
	have_cfg = 1;
	if ((st = find(&cfg, kp.state, &t, &f, &why))) {
		answer(out, st, why.s, &rq);
		goto out;
	}
	secret = f.secret;
	if (!*secret)
		secret = hsecret = host_secret(&cfg);
	if (webhook_verify(t.prov, &rq, secret, &why) < 0) {
		answer(out, 401, why.s, &rq);
		goto out;
	}
	ev = webhook_event(&rq);
	if (!strcmp(ev, "ping")) {
		answer(out, 200, "pong", &rq);
		goto out;
	}
	if (strcmp(ev, "push")) {
		buf_printf(&why, "ignored: a '%s' event, not a push", ev);
		answer(out, 202, why.s, &rq);
		goto out;
	}
	if (!f.enabled) {
		buf_printf(&why, "ignored: webhook_enabled is false for %s "
		    "'%s'", t.type, t.name);
		answer(out, 202, why.s, &rq);
		goto out;
	}
	if (webhook_push_parse(rq.body, rq.blen, &push, &why) < 0) {
		answer(out, 400, why.s, &rq);
		goto out;
	}
	if (strcmp(f.branch, "__ANY__") && strcmp(push.branch, f.branch)) {
		buf_printf(&why, "ignored: pushed '%s', %s '%s' follows "
		    "branch '%s'", push.ref, t.type, t.name, f.branch);
		answer(out, 202, why.s, &rq);
		goto out;
	}
	e = event_new(&t, &f, &push, &rq);
	line = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!line)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	buf_adds(&why, line);
	buf_addc(&why, '\n');
	free(line);
	if (spool_init(kp.spool, "sync") < 0 ||
	    spool_put(kp.spool, "sync", why.s, why.len, &name) < 0) {
		buf_reset(&why);
		buf_printf(&why, "%s/sync: %s", kp.spool, strerror(errno));
		answer(out, 503, why.s, &rq);
		goto out;
	}
	buf_reset(&why);
	buf_printf(&why, "queued %s for sync '%s'", name, f.sync->name);
	answer(out, 200, why.s, &rq);
out:
	free(name);
	free(ev);
	secrets_wipe(hsecret);
	webhook_push_free(&push);
	free(f.branch);
	json_decref(f.recs);
	target_free(&t);
	if (have_cfg)
		config_free(&cfg);
	if (kp.config)
		paths_free(&kp);
	httpreq_free(&rq);
	buf_free(&why);
}

static int
listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	char *addr = xstrdup(spec), *colon = strrchr(addr, ':'), *end;
	long port;
	int fd = -1, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (!colon)
		goto bad;
	*colon = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		goto bad;
	if (addr[0] == '[' && colon > addr + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		if (inet_pton(AF_INET6, addr + 1, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		sl = sizeof(*s6);
	} else {
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		kom_warne("-l %s", spec);
		if (fd >= 0)
			close(fd);
		free(addr);
		return -1;
	}
	/* the port, for -l ADDR:0 */
	printf("{\"kind\":\"listening\",\"address\":\"%s\",\"port\":%u}\n",
	    spec, ntohs(ss.ss_family == AF_INET6 ? s6->sin6_port :
	    s4->sin_port));
	fflush(stdout);
	free(addr);
	return fd;
bad:
	kom_warn("-l: '%s' is not ADDRESS:PORT (127.0.0.1:8120, [::1]:8120)",
	    spec);
	free(addr);
	return -2;
}

static int
serve_loop(const struct hook *h, int lfd, long maxconn)
{
	long running = 0;
	pid_t pid;
	int c, stt;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		while ((pid = waitpid(-1, &stt, running >= maxconn ? 0 :
		    WNOHANG)) > 0)
			running--;
		if ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			kom_warne("accept");
			return KOM_EX_IOERR;
		}
		if ((pid = fork()) < 0) {
			kom_warne("fork");
			close(c);
			continue;
		}
		if (pid == 0) {
			close(lfd);
			serve(h, c, c);
			close(c);
			_exit(0);
		}
		running++;
		close(c);
	}
}

int
webhook_main(int argc, char **argv)
{
	struct hook h = { 1u << 20, 10000 };
	const char *laddr = NULL;
	long v, maxconn = 16;
	char *end;
	int ch, lfd;

	while ((ch = getopt(argc, argv, "b:c:hl:t:")) != -1) {
		switch (ch) {
		case 'b':
		case 'c':
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 ||
			    (ch == 't' && v > 3600) || (ch == 'c' &&
			    v > 4096) || (ch == 'b' && v > (64L << 20))) {
				kom_warn("-%c: '%s' is out of range", ch,
				    optarg);
				fprintf(stderr, "%s\n", usage);
				return KOM_EX_USAGE;
			}
			if (ch == 'b')
				h.max_body = (size_t)v;
			else if (ch == 'c')
				maxconn = v;
			else
				h.timeout_ms = (int)v * 1000;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 'h':
			puts(usage);
			return KOM_EX_OK;
		default:
			fprintf(stderr, "%s\n", usage);
			return KOM_EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s\n", usage);
		return KOM_EX_USAGE;
	}
	if (!laddr) {
		signal(SIGPIPE, SIG_IGN);
		serve(&h, 0, 1);
		return KOM_EX_OK;
	}
	if ((lfd = listen_on(laddr)) < 0)
		return lfd == -2 ? KOM_EX_USAGE : KOM_EX_UNAVAILABLE;
	return serve_loop(&h, lfd, maxconn);
}
