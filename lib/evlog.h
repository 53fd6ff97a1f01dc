/*
 * evlog: what the Docker engine's event log (GET /events) can vouch for.
 *
 * The engine keeps its last 256 events in memory, from its start.  A
 * container changed in place by hand (docker update: restart policy,
 * memory, CPUs; docker rename) shows in the log and nowhere in a
 * container list.  kom-exec keeps one event, the anchor, from a run, and
 * the next run asks for the events since then: when the answer starts
 * with the anchor, the log is whole since then (it did not wrap, the
 * engine did not restart), and a container with no event that changes
 * it in place is as it was; otherwise nothing is vouched for and every
 * container is inspected.
 *
 * Events are the engine's objects ({"Type","Action","Actor":{"ID"},
 * "timeNano",...}).  An anchor is {"time_nano", "type", "action", "id"}.
 * kom-exec's end of a run asks again and keeps, with the newest event as
 * the anchor, the containers nothing stirred since it last looked at
 * them (evlog_stirred): the next run takes those for settled while the
 * log stays whole and still shows nothing of them.
 * Nothing is printed; every json_t ** result is the caller's.
 */
#ifndef KOM_EVLOG_H
#define KOM_EVLOG_H

#include <stddef.h>
#include <jansson.h>

/*
 * The engine's answer (JSON objects, one per line; empty is none) into
 * *out, an array oldest first: 0, or -1 (*out NULL) when a line is not
 * an event object (no Type, Action or integer timeNano).
 */
int evlog_parse(const char *s, size_t n, json_t **out);

/* The anchor of an event (a new object), or NULL when it is not one. */
json_t *evlog_anchor(const json_t *event);

/* Is a (an anchor, as saved) well formed: 1 or 0. */
int evlog_anchor_valid(const json_t *a);

/*
 * Does the log events (since the anchor's time) start with the anchor,
 * so that nothing between is lost: 1 or 0.
 */
int evlog_covers(const json_t *events, const json_t *anchor);

/*
 * The ids of the containers events changed in place or renamed: an
 * object id -> the last such action.  Every container action but those
 * that leave its config and name alone (start, stop, die, kill, pause,
 * restart, oom, health status, exec_*, attach, top, copy...) counts.
 */
json_t *evlog_touched(const json_t *events);

/*
 * The containers events did anything to that a look at them would see
 * (all but exec_*, health_status, attach, detach, top, resize, export,
 * commit, copy, archive-path, extract-to-dir): an object of the newest
 * such event's timeNano by container id, and by "kom.name=NAME" for
 * events of containers labelled kom.managed=true and kom.name=NAME
 * (but not of one the log shows destroyed: a container that is gone no
 * longer counts for its name).
 */
json_t *evlog_stirred(const json_t *events);

/* The newest time stirred holds for key, or 0. */
long long evlog_stirred_at(const json_t *stirred, const char *key);

#endif
