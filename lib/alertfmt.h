/*
 * alertfmt: what an alert looks like at each endpoint (komodo-behaviour.md
 * 6.4): Komodo's texts, so a Slack channel or an ntfy topic fed by kom
 * reads like one fed by Komodo.
 *
 *	Custom		the record itself as JSON (kind dropped), 6.1's shape
 *	Slack		{"text":..., "blocks":[header, section..]}
 *	Discord		{"content": markdown text}
 *	Ntfy		plain text, headers Title (and X-Email)
 *	Pushover	message=<text>, form-encoded
 *	Email		an RFC 5322 message, the text as its body
 *
 * link is the base of resource links ("https://kom.example" gives
 * ".../deployments/web"); with NULL or "" the link line is left out.
 * Types kom raises that Komodo lacks (DeploymentRollback, ...) get texts in
 * the same style.  Results are fresh; arguments are borrowed.
 */
#ifndef KOM_ALERTFMT_H
#define KOM_ALERTFMT_H

#include <jansson.h>

#include "buf.h"

enum alertfmt_style {
	ALERTFMT_PLAIN,		/* Ntfy, Pushover, e-mail */
	ALERTFMT_DISCORD,	/* **bold** */
	ALERTFMT_SLACK		/* *bold*; the text member */
};

/* The text of alert in style, "" for an alert Komodo sends nothing for. */
char *alertfmt_text(const json_t *alert, enum alertfmt_style style,
    const char *link);

/* The Custom body: the record without kom's "kind", with "resolved_ts"
 * (null until resolved) as Komodo sends it, compact JSON. */
char *alertfmt_custom(const json_t *alert);

/* The Slack and Discord JSON bodies. */
char *alertfmt_slack(const json_t *alert, const char *link);
char *alertfmt_discord(const json_t *alert, const char *link);

/*
 * An e-mail message: From, To (every rcpt), Subject (the text's first
 * line), Date, Message-ID (from msgid, e.g. the alert id), MIME headers
 * and the text, CRLF line ends, dot lines left to libcurl.
 */
void alertfmt_mail(struct buf *out, const json_t *alert, const char *from,
    const char *const *rcpt, const char *msgid, const char *link,
    long long now_ms);

#endif
