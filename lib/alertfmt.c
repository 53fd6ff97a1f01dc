/*
 * The texts are table-driven: one template per type and style, with
 * {field} for data members and a few computed slots (see slot()).  {*x}
 * is x emphasised in the style's markup (Discord **x**, Slack *x*).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertfmt.h"
#include "alertroute.h"
#include "util.h"
#include "banned.h"

struct tmpl {
	const char *type;
	const char *path;	/* link: /PATH/id */
	const char *plain, *discord;	/* discord NULL: plain with {*..} */
	const char *plain_ok, *discord_ok;	/* when the level is OK */
};

#define TGT "{target}"
static const struct tmpl tmpls[] = {
	{ "Test", "alerters",
	    "{L} | If you see this message, then Alerter {name} is working{link}",
	    "{L} | If you see this message, then Alerter {*name} is {*working}{link}",
	    NULL, NULL },
	{ "SwarmUnhealthy", "swarms",
	    "{L} | Swarm {name} is unhealthy \xe2\x9d\x8c{link}{err}",
	    "{L} | Swarm {*name} is {*unhealthy} \xe2\x9d\x8c{link}{*err}",
	    "{L} | Swarm {name} is now healthy{link}",
	    "{L} | Swarm {*name} is now {*healthy}{link}" },
	{ "ServerUnreachable", "servers",
	    "{L} | {name}{region} is unreachable \xe2\x9d\x8c{link}{err}",
	    "{L} | {*name}{region} is {*unreachable} \xe2\x9d\x8c{link}{*err}",
	    "{L} | {name}{region} is now connected{link}",
	    "{L} | {*name}{region} is now {*connected}{link}" },
	{ "ServerVersionMismatch", "servers",
	    "{L} | {name}{region} | Version mismatch detected \xe2\x9a\xa0\xef\xb8\x8f\n"
	    "Periphery: {server_version} | Core: {core_version}{link}",
	    "{L} | {*name}{region} | Version mismatch detected \xe2\x9a\xa0\xef\xb8\x8f\n"
	    "Periphery: {*server_version} | Core: {*core_version}{link}",
	    "{L} | {name}{region} | Periphery version now matches Core version \xe2\x9c\x85{link}",
	    "{L} | {*name}{region} | Periphery version now matches Core version \xe2\x9c\x85{link}" },
	{ "ServerCpu", "servers",
	    "{L} | {name}{region} cpu usage at {pct}%{link}",
	    "{L} | {*name}{region} cpu usage at {*pct%}{link}", NULL, NULL },
	{ "ServerMem", "servers",
	    "{L} | {name}{region} memory usage at {pct}%\xf0\x9f\x92\xbe\n\n"
	    "Using {used_gb} GiB / {total_gb} GiB{link}",
	    "{L} | {*name}{region} memory usage at {*pct%} \xf0\x9f\x92\xbe\n\n"
	    "Using {*used_gb GiB} / {*total_gb GiB}{link}", NULL, NULL },
	{ "ServerDisk", "servers",
	    "{L} | {name}{region} disk usage at {pct}%\xf0\x9f\x92\xbf\n"
	    "mount point: {path:q}\nusing {used_gb} GiB / {total_gb} GiB{link}",
	    "{L} | {*name}{region} disk usage at {*pct%} \xf0\x9f\x92\xbf\n"
	    "mount point: `{path:q}`\nusing {*used_gb GiB} / {*total_gb GiB}{link}",
	    NULL, NULL },
	{ "ContainerStateChange", "deployments",
	    "\xf0\x9f\x93\xa6" "Deployment {name} is now {to:c}" TGT "\nprevious: {from}{link}",
	    "\xf0\x9f\x93\xa6 Deployment {*name} is now {*to:c}{*target}\nprevious: {*from}{link}",
	    NULL, NULL },
	{ "DeploymentImageUpdateAvailable", "deployments",
	    "\xe2\xac\x86 Deployment {name} has an update available" TGT "\nimage: {image}{link}",
	    "\xe2\xac\x86 Deployment {*name} has an update available{*target}\nimage: {*image}{link}",
	    NULL, NULL },
	{ "DeploymentAutoUpdated", "deployments",
	    "\xe2\xac\x86 Deployment {name} was updated automatically" TGT "\nimage: {image}{link}",
	    "\xe2\xac\x86 Deployment {*name} was updated automatically \xe2\x8f\xab{*target}\nimage: {*image}{link}",
	    NULL, NULL },
	{ "StackStateChange", "stacks",
	    "\xf0\x9f\xa5\x9e Stack {name} is now {to:s}" TGT "\nprevious: {from}{link}",
	    "\xf0\x9f\xa5\x9e Stack {*name} is now {to:s}{*target}\nprevious: {*from}{link}",
	    NULL, NULL },
	{ "StackImageUpdateAvailable", "stacks",
	    "\xe2\xac\x86 Stack {name} has an update available" TGT "\nservice: {service}\nimage: {image}{link}",
	    "\xe2\xac\x86 Stack {*name} has an update available{*target}\nservice: {*service}\nimage: {*image}{link}",
	    NULL, NULL },
	{ "StackAutoUpdated", "stacks",
	    "\xe2\xac\x86 Stack {name} was updated automatically \xe2\x8f\xab" TGT "\n{images_label}: {images}{link}",
	    "\xe2\xac\x86 Stack {*name} was updated automatically \xe2\x8f\xab{*target}\n{images_label}: {*images}{link}",
	    NULL, NULL },
	{ "AwsBuilderTerminationFailed", NULL,
	    "{L} | Failed to terminate AWS builder instance\ninstance id: {instance_id}\n{message}",
	    "{L} | Failed to terminated AWS builder instance\ninstance id: {*instance_id}\n{message}",
	    NULL, NULL },
	{ "ResourceSyncPendingUpdates", "resource-syncs",
	    "{L} | Pending resource sync updates on {name}{link}",
	    "{L} | Pending resource sync updates on {*name}{link}", NULL, NULL },
	{ "BuildFailed", "builds",
	    "{L} | Build {name} failed\nversion: v{version}{link}",
	    "{L} | Build {*name} failed\nversion: {*vversion}{link}",
	    "{L} | Build {name} builds again\nversion: v{version}{link}",
	    "{L} | Build {*name} {*builds again}\nversion: {*vversion}{link}" },
	{ "RepoBuildFailed", "repos",
	    "{L} | Repo build for {name} failed{link}",
	    "{L} | Repo build for {*name} failed{link}", NULL, NULL },
	{ "ProcedureFailed", "procedures",
	    "{L} | Procedure {name} failed{link}",
	    "{L} | Procedure {*name} failed{link}", NULL, NULL },
	{ "ActionFailed", "actions",
	    "{L} | Action {name} failed{link}",
	    "{L} | Action {*name} failed{link}", NULL, NULL },
	{ "ScheduleRun", NULL,
	    "{L} | {name} ({resource_type}) | Scheduled run started \xf0\x9f\x95\x9d{link}",
	    "{L} | {*name} ({resource_type}) | Scheduled run started \xf0\x9f\x95\x9d{link}",
	    NULL, NULL },
	{ "Custom", NULL, "{L} | {message}{details}", "{L} | {message}{details}",
	    NULL, NULL },
	/* kom's own types, in the same style */
	{ "DeploymentRollback", "deployments",
	    "{L} | Deployment {name} rolled back: {to} failed" TGT "\nkept: {from}\nerror: {error}{link}",
	    "{L} | Deployment {*name} {*rolled back}: {*to} failed{*target}\nkept: {*from}\nerror: {error}{link}",
	    "{L} | Deployment {name} deploys again{link}",
	    "{L} | Deployment {*name} {*deploys again}{link}" },
	{ "DeploymentDeployFailed", "deployments",
	    "{L} | Deployment {name} failed to deploy" TGT "\nerror: {error}{link}",
	    "{L} | Deployment {*name} {*failed} to deploy{*target}\nerror: {error}{link}",
	    "{L} | Deployment {name} deploys again{link}",
	    "{L} | Deployment {*name} {*deploys again}{link}" },
	{ "StackDeployFailed", "stacks",
	    "{L} | Stack {name} failed to deploy" TGT "\nerror: {error}{link}",
	    "{L} | Stack {*name} {*failed} to deploy{*target}\nerror: {error}{link}",
	    "{L} | Stack {name} deploys again{link}",
	    "{L} | Stack {*name} {*deploys again}{link}" },
	{ "ResourceSyncParseFailed", "resource-syncs",
	    "{L} | Resource sync {name} does not parse\nerror: {error}{link}",
	    "{L} | Resource sync {*name} does {*not parse}\nerror: {error}{link}",
	    "{L} | Resource sync {name} parses again{link}",
	    "{L} | Resource sync {*name} {*parses again}{link}" },
	{ "None", NULL, "", "", NULL, NULL },
};

static const struct tmpl fallback = { NULL, NULL,
    "{L} | {type} on {ttype} {tid}{errl}{link}",
    "{L} | {*type} on {ttype} {*tid}{errl}{link}", NULL, NULL };

struct ctx {
	const json_t *alert, *d;
	const struct tmpl *t;
	const char *em;
	const char *link;
};

static const char *
level_text(const char *level)
{
	if (!strcmp(level, "CRITICAL"))
		return "CRITICAL \xf0\x9f\x9a\xa8";
	if (!strcmp(level, "WARNING"))
		return "WARNING \xe2\x80\xbc\xef\xb8\x8f";
	return "OK \xe2\x9c\x85";
}

static const char *
state_text(const char *s, int stack)
{
	if (!strcmp(s, "running"))
		return "Running \xe2\x96\xb6\xef\xb8\x8f";
	if (!stack && !strcmp(s, "exited"))
		return "Exited \xf0\x9f\x9b\x91";
	if (stack && !strcmp(s, "stopped"))
		return "Stopped \xf0\x9f\x9b\x91";
	if (!strcmp(s, "restarting"))
		return "Restarting \xf0\x9f\x94\x84";
	if (!stack && !strcmp(s, "not_deployed"))
		return "Not Deployed";
	if (stack && !strcmp(s, "down"))
		return "Down \xe2\xac\x87\xef\xb8\x8f";
	return s;
}

/* A JSON value as text: strings as they are, numbers as numbers. */
static void
add_value(struct buf *b, const json_t *v)
{
	char *s;

	if (json_is_string(v))
		buf_adds(b, json_string_value(v));
	else if (json_is_integer(v))
		buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		buf_printf(b, "%.1f", json_real_value(v));
	else if (v && !json_is_null(v)) {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s)
			buf_adds(b, s);
		free(s);
	}
}

/* Rust's {:?} of a string: quoted, with \" \\ \n \t escaped. */
static void
add_debug(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '\t')
			buf_adds(b, "\\t");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static double
num(const json_t *d, const char *k)
{
	return json_number_value(json_object_get(d, k));
}

static const char *
dstr(const json_t *d, const char *k)
{
	return json_string_value(json_object_get(d, k));
}

static void
emph(struct buf *b, const struct ctx *c, int on)
{
	if (on)
		buf_adds(b, c->em);
}

static int
is_word(const char *k)
{
	static const char *const words[] = { "working", "healthy",
	    "unhealthy", "connected", "unreachable", "failed", "rolled back",
	    "deploys again", "builds again" };

	for (size_t i = 0; i < KOM_NELEM(words); i++)
		if (!strcmp(k, words[i]))
			return 1;
	return 0;
}

/* Expand one {slot}; em says whether it was written {*slot}. */
static void
slot(struct buf *b, const struct ctx *c, const char *k, size_t kl, int em)
{
	char key[64];
	const json_t *d = c->d, *t = json_object_get(c->alert, "target");
	const char *s;

	snprintf(key, sizeof(key), "%.*s", (int)kl, k);
	if (!strcmp(key, "L")) {
		buf_adds(b, level_text(alertroute_level(c->alert)));
	} else if (!strcmp(key, "link")) {
		const char *id = dstr(d, "id");

		if (!id)
			id = dstr(t, "id");
		if (c->link && *c->link && c->t->path && id)
			buf_printf(b, "\n%s/%s/%s", c->link, c->t->path, id);
	} else if (!strcmp(key, "region")) {
		if ((s = dstr(d, "region")) && *s)
			buf_printf(b, " (%s)", s);
	} else if (!strcmp(key, "target")) {
		if ((s = dstr(d, "swarm_name"))) {
			buf_adds(b, "\nswarm: ");
		} else if ((s = dstr(d, "server_name"))) {
			buf_adds(b, "\nserver: ");
		}
		if (s) {
			emph(b, c, em);
			buf_adds(b, s);
			emph(b, c, em);
		}
	} else if (!strcmp(key, "err") || !strcmp(key, "errl")) {
		s = dstr(d, "err");
		if (!s)
			s = dstr(d, "error");
		if (s) {
			buf_addc(b, '\n');
			emph(b, c, em);
			buf_adds(b, "error");
			emph(b, c, em);
			buf_adds(b, ": ");
			if (!strcmp(key, "err"))
				add_debug(b, s);
			else
				buf_adds(b, s);
		}
	} else if (!strcmp(key, "details")) {
		if ((s = dstr(d, "details")) && *s)
			buf_printf(b, "\n%s", s);
	} else if (!strcmp(key, "type")) {
		emph(b, c, em);
		buf_adds(b, alertroute_type(c->alert));
		emph(b, c, em);
	} else if (!strcmp(key, "ttype") || !strcmp(key, "tid")) {
		emph(b, c, em);
		buf_adds(b, dstr(t, key[1] == 't' ? "type" : "id"));
		emph(b, c, em);
	} else {
		/* a data member, possibly with a unit or a format */
		char name[64];
		const char *suffix = "", *fmt = "";
		char *sp = strchr(key, ' '), *colon = strchr(key, ':');

		if (is_word(key)) {
			emph(b, c, em);
			buf_adds(b, key);	/* a word of the template */
			emph(b, c, em);
			return;
		}
		if (sp) {
			*sp = '\0';
			suffix = sp + 1;
		} else if (key[kl - 1] == '%') {
			key[kl - 1] = '\0';
			suffix = "%";
		}
		if (colon) {
			*colon = '\0';
			fmt = colon + 1;
		}
		snprintf(name, sizeof(name), "%s", key);
		emph(b, c, em);
		if (!strcmp(name, "pct")) {
			if (json_object_get(d, "percentage"))
				buf_printf(b, "%.1f", num(d, "percentage"));
			else {
				double tot = num(d, "total_gb");

				buf_printf(b, "%.1f", tot > 0 ?
				    100.0 * num(d, "used_gb") / tot : NAN);
			}
		} else if (!strcmp(name, "used_gb") ||
		    !strcmp(name, "total_gb")) {
			buf_printf(b, "%.1f", num(d, name));
		} else if (!strcmp(name, "images_label")) {
			buf_adds(b, json_array_size(json_object_get(d,
			    "images")) > 1 ? "images" : "image");
		} else if (!strcmp(name, "images")) {
			size_t i;
			json_t *v;

			json_array_foreach(json_object_get(d, "images"), i, v) {
				if (i)
					buf_adds(b, ", ");
				add_value(b, v);
			}
		} else if (!strcmp(name, "version") ||
		    !strcmp(name, "vversion")) {
			const json_t *v = json_object_get(d, "version");

			if (name[1] == 'v')
				buf_addc(b, 'v');
			if (json_is_object(v))
				buf_printf(b, "%lld.%lld.%lld",
				    (long long)json_integer_value(
				    json_object_get(v, "major")),
				    (long long)json_integer_value(
				    json_object_get(v, "minor")),
				    (long long)json_integer_value(
				    json_object_get(v, "patch")));
			else
				add_value(b, v);
		} else if (!strcmp(fmt, "c") || !strcmp(fmt, "s")) {
			s = dstr(d, name);
			buf_adds(b, state_text(s ? s : "unknown", *fmt == 's'));
		} else if (!strcmp(fmt, "q")) {
			add_debug(b, dstr(d, name));
		} else {
			add_value(b, json_object_get(d, name));
		}
		if (*suffix && strcmp(suffix, "%"))
			buf_printf(b, " %s", suffix);
		else
			buf_adds(b, suffix);
		emph(b, c, em);
	}
}

static void
expand(struct buf *b, const struct ctx *c, const char *tp)
{
	const char *p = tp, *e;

	while (*p) {
		if (*p != '{' || !(e = strchr(p, '}'))) {
			buf_addc(b, *p++);
			continue;
		}
		p++;
		if (*p == '*')
			slot(b, c, p + 1, (size_t)(e - p - 1), 1);
		else
			slot(b, c, p, (size_t)(e - p), 0);
		p = e + 1;
	}
}

static const struct tmpl *
find(const char *type)
{
	for (size_t i = 0; i < KOM_NELEM(tmpls); i++)
		if (!strcmp(tmpls[i].type, type))
			return &tmpls[i];
	return &fallback;
}

static void
render(struct buf *b, const json_t *alert, enum alertfmt_style style,
    const char *link)
{
	struct ctx c;
	const char *tp;
	int ok = !strcmp(alertroute_level(alert), "OK");

	c.alert = alert;
	c.d = json_object_get(json_object_get(alert, "data"), "data");
	c.t = find(alertroute_type(alert));
	c.em = style == ALERTFMT_DISCORD ? "**" : style == ALERTFMT_SLACK ?
	    "*" : "";
	c.link = link;
	if (style == ALERTFMT_PLAIN)
		tp = ok && c.t->plain_ok ? c.t->plain_ok : c.t->plain;
	else
		tp = ok && c.t->discord_ok ? c.t->discord_ok : c.t->discord;
	expand(b, &c, tp);
}

char *
alertfmt_text(const json_t *alert, enum alertfmt_style style,
    const char *link)
{
	struct buf b = BUF_INIT;

	render(&b, alert, style, link);
	return buf_release(&b);
}

char *
alertfmt_custom(const json_t *alert)
{
	json_t *copy = json_deep_copy(alert);
	char *s;

	json_object_del(copy, "kind");
	if (!json_object_get(copy, "resolved_ts"))
		json_object_set_new(copy, "resolved_ts", json_null());
	s = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	if (!s)
		kom_die(KOM_EX_SOFTWARE, "cannot encode an alert record");
	return s;
}

static char *
dump_steal(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (!s)
		kom_die(KOM_EX_SOFTWARE, "cannot encode an alert body");
	return s;
}

char *
alertfmt_discord(const json_t *alert, const char *link)
{
	char *t = alertfmt_text(alert, ALERTFMT_DISCORD, link);
	json_t *o = json_pack("{s:s}", "content", t);

	free(t);
	return dump_steal(o);
}

static json_t *
block(const char *kind, const char *text)
{
	if (!strcmp(kind, "header"))
		return json_pack("{s:s, s:{s:s, s:s}}", "type", "header",
		    "text", "type", "plain_text", "text", text);
	return json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
	    "type", "mrkdwn", "text", text);
}

/*
 * Komodo's Slack message: text is the summary line, blocks a header (the
 * level, or the summary where Komodo puts it there), the message, the
 * link.  Built from the Slack-styled text: its first line minus the level
 * is the message head, the lines after it (but the link) its body.
 */
char *
alertfmt_slack(const json_t *alert, const char *link)
{
	const char *type = alertroute_type(alert);
	const json_t *d = json_object_get(json_object_get(alert, "data"),
	    "data");
	struct buf full = BUF_INIT, text = BUF_INIT, rest = BUF_INIT;
	const char *lvl = level_text(alertroute_level(alert));
	json_t *blocks = json_array(), *o;
	char *nl, *linkline = NULL, *head;
	size_t ll = strlen(lvl);

	render(&full, alert, ALERTFMT_SLACK, NULL);
	if (link && *link) {
		struct buf lb = BUF_INIT;

		render(&lb, alert, ALERTFMT_SLACK, link);
		if (lb.len > full.len)
			linkline = xstrdup(lb.s + full.len + 1);
		buf_free(&lb);
	}
	if (!strcmp(type, "ContainerStateChange")) {
		const char *s = dstr(d, "to");
		const char *sw = dstr(d, "swarm_name");
		const char *sv = dstr(d, "server_name");

		buf_printf(&text, "\xf0\x9f\x93\xa6 Container *%s* is now *%s*",
		    dstr(d, "name") ? dstr(d, "name") : "",
		    state_text(s ? s : "unknown", 0));
		if (sw)
			buf_printf(&rest, "swarm: *%s*\n", sw);
		else if (sv)
			buf_printf(&rest, "server: *%s*\n", sv);
		buf_printf(&rest, "previous: %s", dstr(d, "from") ?
		    dstr(d, "from") : "");
		json_array_append_new(blocks, block("header", text.s));
		json_array_append_new(blocks, block("section", rest.s));
	} else if (!strcmp(type, "Custom")) {
		buf_printf(&text, "%s | %s", lvl, dstr(d, "message") ?
		    dstr(d, "message") : "");
		json_array_append_new(blocks, block("header", text.s));
		json_array_append_new(blocks, block("section", dstr(d,
		    "details") ? dstr(d, "details") : ""));
	} else {
		nl = strchr(full.s, '\n');
		buf_add(&text, full.s, nl ? (size_t)(nl - full.s) : full.len);
		head = text.s;
		if (!strncmp(head, lvl, ll) && !strncmp(head + ll, " | ", 3))
			head += ll + 3;
		buf_adds(&rest, head);
		if (nl)
			buf_adds(&rest, nl);
		json_array_append_new(blocks, block("header", lvl));
		json_array_append_new(blocks, block("section", rest.s));
	}
	if (linkline)
		json_array_append_new(blocks, block("section", linkline));
	o = json_pack("{s:s, s:o}", "text", text.s, "blocks", blocks);
	buf_free(&full);
	buf_free(&text);
	buf_free(&rest);
	free(linkline);
	return dump_steal(o);
}

/* A header value with CR and LF replaced: no header injection. */
static void
add_header_value(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		buf_addc(b, s[i] == '\r' || s[i] == '\n' ? ' ' : s[i]);
}

void
alertfmt_mail(struct buf *out, const json_t *alert, const char *from,
    const char *const *rcpt, const char *msgid, const char *link,
    long long now_ms)
{
	char *text = alertfmt_text(alert, ALERTFMT_PLAIN, link);
	char date[64];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	const char *nl = strchr(text, '\n'), *p;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_adds(out, "From: ");
	add_header_value(out, from, strlen(from));
	buf_adds(out, "\r\nTo: ");
	for (size_t i = 0; rcpt && rcpt[i]; i++) {
		if (i)
			buf_adds(out, ", ");
		add_header_value(out, rcpt[i], strlen(rcpt[i]));
	}
	buf_adds(out, "\r\nSubject: ");
	add_header_value(out, text, nl ? (size_t)(nl - text) : strlen(text));
	buf_printf(out, "\r\nDate: %s\r\nMessage-ID: <", date);
	add_header_value(out, msgid, strlen(msgid));
	buf_adds(out, "@kom>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	for (p = text; *p; p++) {
		if (*p == '\n')
			buf_addc(out, '\r');
		buf_addc(out, *p);
	}
	buf_adds(out, "\r\n");
	free(text);
}
