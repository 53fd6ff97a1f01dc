/*
 * alertroute: which [[alerter]] gets which alert (komodo-behaviour.md
 * 6.3), and the record checks that come before it.
 *
 * An alerter is its applied config object (STATE/resources/alerter/
 * NAME.json, "config": enabled, endpoint, alert_types, resources,
 * except_resources, maintenance_windows).  Komodo's order, per alert and
 * alerter:
 *
 *	1. enabled = false				skip
 *	2. now inside an enabled maintenance window	skip
 *	3. unless the alert is a Test:
 *	   alert_types non-empty, type not in it	skip
 *	   target in except_resources			skip
 *	   resources non-empty, target not in it	skip
 *
 * Targets compare as {type, id} with kom's names as ids, so the
 * resources lists of a sync file match the records kom raises.
 *
 * Everything here is pure: arguments are borrowed, nothing is printed,
 * nothing is kept.  Times are unix ms.
 */
#ifndef KOM_ALERTROUTE_H
#define KOM_ALERTROUTE_H

#include <jansson.h>

/* Why an alerter does not get an alert (static strings), or NULL. */
const char *alertroute_skip(const json_t *config, const json_t *alert,
    long long now_ms);

/*
 * Whether now_ms falls inside one of windows (an array of Komodo
 * MaintenanceWindow objects): 1 or 0.  The one evaluator for an
 * alerter's windows (kom-alert) and a server's (kom-exec check).  A window whose timezone cannot be
 * loaded, or whose OneTime date does not parse, never matches (Komodo's
 * rule).  An empty timezone is the local one.
 */
int alertroute_in_maintenance(const json_t *windows, long long now_ms);

/*
 * Check that rec is an alert record kom can route (kom-json(5)): kind
 * "alert"; ts an integer; level OK, WARNING or CRITICAL; resolved a
 * boolean; target {type, id} strings; data {type, data} with data an
 * object.  Returns 0, or -1 with a static message in *why.
 */
int alertroute_check(const json_t *rec, const char **why);

/* Accessors on a checked record (borrowed strings). */
const char *alertroute_type(const json_t *rec);		/* data.type */
const char *alertroute_level(const json_t *rec);
/* "OK" 0, "WARNING" 1, "CRITICAL" 2, anything else -1. */
int alertroute_level_rank(const char *level);

/*
 * The open-alert key of rec: "TargetType/target id/DataType" and, for a
 * disk alert's mount or a stack's service, "/path" or "/service", in a
 * fresh string.
 */
char *alertroute_key(const json_t *rec);

#endif
