/*
 * buildver: the versions of a [[build]] (komodo-behaviour 1.6, 2.7, 4.1)
 * as every program must see them alike.
 *
 * kom-exec builds version buildver_next() and records it in the build's
 * state record ("exec": {"version", "image", ...}); a deployment whose
 * image is { type = "Build" } runs the build's recorded version (0.0.0 or
 * none: the latest) and records it as exec.build_version.  kom-sync,
 * offline, copies both into the deployment's record (buildver_annotate),
 * so that kom-plan can say "build has new version: X" without the
 * network or the engine.
 *
 * Arguments are borrowed; nothing is printed.
 */
#ifndef KOM_BUILDVER_H
#define KOM_BUILDVER_H

#include <jansson.h>

struct state_set;

/* "x.y.z" (or "": 0.0.0) into v; 0, or -1 when it is not that. */
int buildver_parse(const char *s, long v[3]);
/* <0, 0, >0 as a is below, equal to, above b. */
int buildver_cmp(const long a[3], const long b[3]);

/*
 * The version the next build of cfg (a build's config) gets, after the
 * last one built (NULL or "": never): the TOML's version is a floor; with
 * auto_increment_version (the default) the last built patch plus one
 * when that is not below it.  0, or -1 when cfg's version is not x.y.z.
 */
int buildver_next(const json_t *cfg, const char *last, long v[3]);

/*
 * The build a deployment's config runs ({ type = "Build", params = {
 * build, version } }): its name, or NULL; *pinned set to the version
 * asked for when it is not 0.0.0 (else NULL).
 */
const char *buildver_of(const json_t *cfg, const char **pinned);

/*
 * For every deployment record in records whose image is a Build: the
 * member "build" = {"name", "version": the version it would run now
 * (pinned, else the build's recorded version; "" when never built on
 * this host), "deployed": the build version its last deploy ran (""
 * when none)}, from the applied records in applied.  And for every build
 * record whose config names a builder: the member "builder" = {"name",
 * "source" (where it is declared; "" when only applied), "type"
 * ("Server", "Aws", "Url"), "servers" (a Server builder's)}, from the
 * builder declared among records, else the applied one; none when it is
 * neither (kom-exec builds only where the member says).
 */
void buildver_annotate(json_t *records, struct state_set *applied);
/* The same for one record (rec), its builder looked for in records (the
 * declared builders will do). */
void buildver_annotate_one(json_t *rec, const json_t *records,
    struct state_set *applied);

#endif
