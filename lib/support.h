/*
 * support: what kom does not act on yet.  Komodo declares more than kom
 * carries out today (repos, builds, builders, actions, alerters,
 * git-backed syncs and stacks, webhooks, polling, schedules).  They all
 * parse and are recorded, but nothing happens for them; this module says
 * so, from ONE table (support.c), so that each feature that lands removes
 * its row and every message follows.
 *
 * kom-sync validate (and show, diff) prints one note per resource naming
 * what it declares that kom does not act on yet; kom-plan refuses to
 * deploy a resource whose deploy kom cannot carry out (a deployment of a
 * 'Build' image, a stack whose files come from a git repo), with the same
 * words, instead of letting kom-exec fail a stage and skip the rest.
 */
#ifndef KOM_SUPPORT_H
#define KOM_SUPPORT_H

#include <jansson.h>
#include "buf.h"

/*
 * The things record (a resource record: type and normalized config) has
 * that kom does not act on yet, appended to what as "a, b, c".  Returns
 * how many; *refuse (when not NULL) is set to 1 when one of them makes a
 * deploy impossible, and then blocker (when not NULL) gets the words of
 * the first such.  Arguments are borrowed; nothing is printed.
 */
int support_check(const json_t *record, struct buf *what, int *refuse,
    struct buf *blocker);

#endif
