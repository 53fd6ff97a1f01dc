/*
 * endpoint.c: one alert for one alerter's endpoint, as a request
 * (komodo-behaviour.md 6.4, kom-alert(1) ENDPOINTS).  [[NAME]] is expanded
 * in the URL and, for Email, in the user name and password; every secret
 * it used is masked in what comes back.
 */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "alertfmt.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

static const char *
pstr(const json_t *params, const char *key)
{
	const char *s = json_string_value(json_object_get(params, key));

	return s ? s : "";
}

/* Expand into *out, or a masked message in err. */
static int
expand(struct vars *v, const char *what, const char *in, char **out,
    struct buf *err)
{
	struct buf e = BUF_INIT;
	char *m;

	if (vars_expand_str(v, in, out, &e) == 0) {
		buf_free(&e);
		return 0;
	}
	m = vars_mask(v, e.s);
	buf_printf(err, "%s: %s", what, m);
	free(m);
	buf_free(&e);
	return -1;
}

static void
add_header(struct endpoint_req *r, size_t *n, const char *fmt, const char *v)
{
	r->headers = xreallocarray(r->headers, *n + 2, sizeof(char *));
	r->headers[(*n)++] = xasprintf(fmt, v);
	r->headers[*n] = NULL;
}

int
endpoint_prepare(struct endpoint_req *r, const json_t *config,
    const json_t *alert, const char *id, struct vars *v,
    const struct opts *o, struct buf *err)
{
	const json_t *ep = json_object_get(config, "endpoint");
	const json_t *params = json_object_get(ep, "params");
	const char *type = json_string_value(json_object_get(ep, "type"));
	const char *ctype = "application/json";
	size_t nh = 0;
	char *s;

	memset(r, 0, sizeof(*r));
	http_req_init(&r->http);
	buf_init(&r->body);
	if (!type)
		type = "Custom";
	if (expand(v, "endpoint url", pstr(params, "url"), &r->url, err) < 0)
		return -1;
	if (!strcmp(type, "Custom")) {
		s = alertfmt_custom(alert);
		buf_adds(&r->body, s);
		free(s);
	} else if (!strcmp(type, "Slack") || !strcmp(type, "Discord")) {
		s = alertfmt_text(alert, ALERTFMT_PLAIN, NULL);
		r->empty = !*s;
		free(s);
		s = *type == 'S' ? alertfmt_slack(alert, o->link) :
		    alertfmt_discord(alert, o->link);
		buf_adds(&r->body, s);
		free(s);
	} else if (!strcmp(type, "Ntfy") || !strcmp(type, "Pushover")) {
		s = alertfmt_text(alert, ALERTFMT_PLAIN, o->link);
		r->empty = !*s;
		if (*type == 'N') {
			ctype = "text/plain; charset=utf-8";
			buf_adds(&r->body, s);
			add_header(r, &nh, "Title: %s", "Komodo Alert");
			if (*pstr(params, "email"))
				add_header(r, &nh, "X-Email: %s",
				    pstr(params, "email"));
		} else {
			ctype = "application/x-www-form-urlencoded";
			buf_adds(&r->body, "message=");
			http_form_escape(&r->body, s);
		}
		free(s);
	} else if (!strcmp(type, "Email")) {
		const json_t *to = json_object_get(params, "to");
		size_t i, n = json_array_size(to);
		json_t *x;

		if (expand(v, "endpoint username", pstr(params, "username"),
		    &r->user, err) < 0 || expand(v, "endpoint password",
		    pstr(params, "password"), &r->pass, err) < 0)
			return -1;
		if (!n) {
			buf_adds(err, "Email endpoint without recipients "
			    "(params.to)");
			return -1;
		}
		r->rcpt = xcalloc(n + 1, sizeof(char *));
		json_array_foreach(to, i, x)
			r->rcpt[i] = xstrdup(json_string_value(x) ?
			    json_string_value(x) : "");
		r->from = xstrdup(*pstr(params, "from") ? pstr(params,
		    "from") : "kom@localhost");
		s = alertfmt_text(alert, ALERTFMT_PLAIN, o->link);
		r->empty = !*s;
		free(s);
		alertfmt_mail(&r->body, alert, r->from,
		    (const char *const *)r->rcpt, id, o->link, kom_wall_ms());
		r->http.kind = HTTP_SMTP;
		r->http.mail_from = r->from;
		r->http.rcpt = (const char *const *)r->rcpt;
		r->http.user = r->user;
		r->http.pass = r->pass;
		r->http.starttls = !json_is_false(json_object_get(params,
		    "starttls"));
		if (*pstr(params, "ca_file"))
			r->cafile = xstrdup(pstr(params, "ca_file"));
		r->http.cafile = r->cafile;
	} else {
		buf_printf(err, "unknown endpoint type '%s'", type);
		return -1;
	}
	if (r->http.kind == HTTP_POST)
		add_header(r, &nh, "Content-Type: %s", ctype);
	add_header(r, &nh, "X-Kom-Alert-Id: %s", id);
	r->http.url = r->url;
	r->http.headers = (const char *const *)r->headers;
	r->http.body = r->body.s;
	r->http.len = r->body.len;
	r->http.timeout_ms = o->timeout_ms;
	return 0;
}

void
endpoint_req_free(struct endpoint_req *r)
{
	http_req_free(&r->http);
	secrets_wipe(r->url);
	secrets_wipe(r->user);
	secrets_wipe(r->pass);
	free(r->from);
	free(r->cafile);
	for (size_t i = 0; r->rcpt && r->rcpt[i]; i++)
		free(r->rcpt[i]);
	free(r->rcpt);
	for (size_t i = 0; r->headers && r->headers[i]; i++)
		free(r->headers[i]);
	free(r->headers);
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}
