/*
 * diff: what kom-sync diff computes (kom-sync(1), kom-json(5)): declared
 * resource records against the records last applied (state.h).
 *
 * Records are jansson objects shaped as the "resource" record of
 * kom-json(5): type, name, source, description, tags, template, deploy,
 * after, config (normalized, defaults merged).  The declared records come
 * from the resource layer (kom-sync show), the applied ones from the state
 * directory.  Nothing here reads TOML or files.
 *
 * Secrets: a variable whose config.is_secret (or record "secret") is true
 * never shows its value, only "<NAME>", in any record or rendering made
 * here, whatever its input records held.
 *
 * Ownership: arguments are borrowed; every json_t returned is new and the
 * caller's (json_decref).  Errors are printed as one diagnostic and
 * returned as -1.
 */
#ifndef KOM_DIFF_H
#define KOM_DIFF_H

#include <stdio.h>
#include <jansson.h>

/* Which resources take part: the [[resource_sync]] options (config.h). */
struct diff_opts {
	const char *sync;	/* put on every record as "sync"; NULL: none */
	int delete;		/* delete || managed: undeclared applied -> delete */
	int include_resources;	/* every type but variable and user_group */
	int include_variables;
	int include_user_groups;
	const char *const *match_tags;	/* resources must carry all of them */
	size_t nmatch_tags;
	const char *server;	/* this host (pull mode), or NULL: applied
				 * deployments, stacks and repos of another
				 * server, and other [[server]]s, are never
				 * deleted (the declared side is filtered by
				 * the resource layer) */
	int check_after;	/* an "after" must name a deployment or stack
				 * declared or applied (when the resource
				 * layer did not check it already) */
};

struct diff_counts {
	long create, update, delete, keep, total;
};

/*
 * Komodo's apply order (komodo-behaviour.md 2.5): variable, user_group,
 * server, alerter, action, swarm, builder, repo, build, stack,
 * resource_sync, deployment, procedure.  Returns 0..12, or 13 for an
 * unknown type (sorted last).
 */
int diff_type_rank(const char *type);

/*
 * One resource.  declared or applied may be NULL (create / delete), not
 * both.  Returns a new "resource" record with "op", "changes" and
 * "deploy_changes" (and "sync" from sync when not NULL; for a delete the
 * applied record's sync).
 */
json_t *diff_resource(const json_t *declared, const json_t *applied,
    const char *sync);

/*
 * The whole diff.  declared: array of records; applied: {type: {name:
 * record}} as state_load_all() returns.  On success *out is an array of
 * records in output order (type rank, then byte order of names), *c is
 * filled, and 0 is returned.  Returns -1 after printing a diagnostic when
 * the input is bad: a record without type or name, a duplicate, or (with
 * check_after) an "after" naming a deployment or stack that is neither
 * declared nor applied.
 */
int diff_run(const json_t *declared, const json_t *applied,
    const struct diff_opts *o, json_t **out, struct diff_counts *c);

/*
 * The same over a state dir read by state_set_load() (state.h): a declared
 * record whose state hash equals the applied one's is kept without parsing
 * or comparing the applied record; any other is compared in full.  Applied
 * records are parsed only as needed.  The result is the one diff_run()
 * gives on state_load_all()'s records.
 */
struct state_set;
int diff_run_set(const json_t *declared, struct state_set *applied,
    const struct diff_opts *o, json_t **out, struct diff_counts *c);

/*
 * The same one declared record at a time, for a caller that never holds
 * them all (kom-sync diff over resource files): what is kept of each is
 * its index entry and its output as text, the JSON line or the human
 * plan's lines, a tenth of its jansson tree.  Nothing is written before
 * diff_stream_write(), so a stream that fails writes nothing.
 *
 *	s = diff_stream_new(applied, o, fmt, color, verbose);
 *	diff_stream_declare(s, rec)	every declared record, in their
 *					order (the order messages name);
 *					what diff_run_set() checks of them
 *	diff_stream_add(s, rec, i)	each declared record (whole) once,
 *					in any order, i its place in the
 *					order declared; from several
 *					threads at once if need be
 *	diff_stream_end(s, &counts)	warnings, deletes, the output order
 *	diff_stream_write(s, stdout)	records and end record (DIFF_JSON),
 *					or the plan (DIFF_HUMAN)
 *	diff_stream_free(s)
 *
 * A caller that reads applied beside diff_stream_add() on other threads
 * does it between diff_stream_lock() and diff_stream_unlock(): the
 * stream lets go of an applied record once it is compared.
 *
 * declare, add and end return 0, or -1 after a diagnostic, as
 * diff_run_set() fails; records are borrowed, applied and o too until
 * the stream is freed.  The output is the bytes diff_run_set() and
 * diff_write_records() or diff_render_human() give.
 */
enum diff_format {
	DIFF_RECORDS,		/* kept whole (diff_run_set) */
	DIFF_JSON,
	DIFF_HUMAN
};
struct diff_stream;
struct diff_stream *diff_stream_new(struct state_set *applied,
    const struct diff_opts *o, enum diff_format fmt, int color, int verbose);
int diff_stream_declare(struct diff_stream *s, const json_t *rec);
int diff_stream_add(struct diff_stream *s, const json_t *rec, size_t i);
void diff_stream_lock(struct diff_stream *s);
void diff_stream_unlock(struct diff_stream *s);
int diff_stream_end(struct diff_stream *s, struct diff_counts *c);
void diff_stream_write(struct diff_stream *s, FILE *fp);
void diff_stream_free(struct diff_stream *s);

/*
 * The records as JSON lines, compact, keys in their order: the bytes
 * json_dumpf(JSON_COMPACT) and a newline give.  Write errors are left in
 * ferror(fp); a record that cannot be encoded is fatal (exit 70).
 */
void diff_write_records(FILE *fp, const json_t *records);
/*
 * Records from..to-1 (to past the end: all the rest) the same way,
 * appended to out.  Reads records only: two threads may format parts of
 * one array at once.
 */
struct buf;
void diff_format_records(const json_t *records, size_t from, size_t to,
    struct buf *out);

/* {"kind":"end","program":"kom-sync","counts":{...}} */
json_t *diff_end_record(const struct diff_counts *c);

/*
 * The human plan: records (as diff_run made them) grouped by type, one
 * line per create/update/delete and per changed field, then the "Plan:"
 * line.  color: ANSI colours; verbose: list unchanged resources too.
 */
void diff_render_human(FILE *fp, const json_t *records,
    const struct diff_counts *c, int color, int verbose);

/*
 * A value as the human plan shows it, in a fresh string: strings quoted,
 * kv lists as "K=V, K=V", at most about max columns (elided in the
 * middle with "...").
 */
char *diff_render_value(const json_t *v, size_t max);

#endif
