/*
 * render: kom-plan's human outputs of a list of step records: -H (a
 * readable plan) and -g (a Graphviz dot graph).  Both write to fp and
 * return 0, or -1 on a write error.
 */
#ifndef KOM_PLAN_RENDER_H
#define KOM_PLAN_RENDER_H

#include <stdio.h>
#include <jansson.h>

int render_human(FILE *fp, json_t *const *steps, size_t n, int stages,
    int color);
int render_dot(FILE *fp, json_t *const *steps, size_t n, int stages);

#endif
