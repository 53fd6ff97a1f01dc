/*
 * alert: kom's alert records (kom-json(5) "alert") and their way into the
 * spool's alert queue (kom-spool(5)), for every program that raises one
 * (kom-exec's rollbacks; kom-poll and kom-alert next).
 *
 * The record keeps the shape of Komodo's alert (komodo-behaviour.md 6.1),
 * with names where Komodo has ids, so receivers written for Komodo's
 * Custom alerter work as is:
 *
 *	{"kind":"alert","ts":MS,"level":"WARNING","resolved":false,
 *	 "target":{"type":"Deployment","id":"web"},
 *	 "data":{"type":"DeploymentRollback","data":{...}}}
 *
 * Ownership: alert_new() steals data and returns a new reference;
 * alert_queue() borrows.  Errors: -1 with errno set, nothing printed.
 */
#ifndef KOM_ALERT_H
#define KOM_ALERT_H

#include <jansson.h>

/*
 * A new, unresolved alert record stamped with the wall clock: level is
 * "OK", "WARNING" or "CRITICAL", target_type Komodo's ("Deployment",
 * "Stack", "Server"...), target_id the resource's name, data_type the
 * variant ("DeploymentRollback"), data its fields (stolen).
 */
json_t *alert_new(const char *level, const char *target_type,
    const char *target_id, const char *data_type, json_t *data);

/*
 * Make alert the resolve of what it reports: level OK, "resolved" true
 * (kom-alert(1) closes the open alert of the same key and sends it).
 */
void alert_set_resolved(json_t *alert);

/* Write the record as one JSON line into SPOOL/alert (made as needed). */
int alert_queue(const char *spool, const json_t *alert);

#endif
