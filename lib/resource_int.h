/*
 * resource_int: what the files of the resource layer share (resource.h):
 * resource.c loads and walks the files, checks each resource against the
 * schema and says what is wrong; resource_convert.c converts Komodo's
 * flexible formats (string lists, key-value lists, images, executions,
 * ...) into normalized JSON; resource_refs.c checks the references
 * between resources once every file is read (`after`, servers, procedure
 * targets, [[VARIABLES]], cycles) and selects what this host applies.
 * Not for use outside lib/resource*.c.
 */
#ifndef KOM_RESOURCE_INT_H
#define KOM_RESOURCE_INT_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"
#include "resource.h"
#include "schema.h"
#include "secrets.h"
#include "toml.h"

#define MAX_TYPES 16
#define MAX_FIELDS 64
#define DEF_SLOTS 1024	/* more than all schema fields */
#define WALK_MAX_DEPTH 64

/* A reference to check once everything is read. */
enum ref_kind {
	REF_AFTER,	/* must be declared: deployment or stack */
	REF_EXEC,	/* must be declared */
	REF_SERVER,	/* must be declared when any server is */
	REF_SOFT,	/* warning when not declared */
	REF_DISABLED,	/* the same, for a disabled procedure execution */
	REF_VAR		/* [[NAME]]: variable or secret file */
};

struct ref {
	enum ref_kind kind;
	const char *type;	/* record type of the target */
	char *name;
	const char *path;	/* where: borrowed until the end of the load */
	int line, col;
	const char *rtype;	/* who: borrowed, as above */
	const char *rname;
	json_t *slot;		/* after: the array element to rewrite */
};

struct res {
	json_t *rec;
	int rank;
	size_t seq;
	int drop;		/* not output (no usable name) */
};

struct file {
	const char *path;	/* for messages */
	const char *source;	/* for records */
	const char *root;	/* absolute directory source is relative to,
				 * or NULL (source absolute, or in memory) */
	struct buf text;	/* after the """ pre-processing */
	size_t *lines;		/* offsets of line starts in text */
	size_t nlines;
	size_t *ins;		/* offsets in text of inserted backslashes */
	size_t nins;
	int utf8;		/* path and source are valid UTF-8 */
};

struct file_out;

struct ctx {
	const struct resource_opts *opts;
	long errors;
	long read_errors;	/* of errors: paths that could not be read */
	int self_after;		/* "is after itself" was reported */
	struct file *f;
	json_t *names[MAX_TYPES];	/* name -> "PATH:LINE" */
	struct res *res;
	size_t nres, cap;
	struct ref *refs;
	size_t nrefs, refcap;
	size_t seq;
	struct secrets sec;	/* where secret files are looked for */
	unsigned char key[SECRETS_KEY_LEN];	/* for inline secret values */
	int key_state;		/* 0 not read yet, 1 read, -1 none */
	int interp;		/* the current resource is interpolated */
	int lean;		/* check only: no defaults in its config */
	/* lean: the config being converted, of which only what the checks
	 * across records read is kept (res_lean_keeps()) */
	const json_t *lean_out;
	/*
	 * Rebuilding checked files (resource_rebuild()): no diagnostics,
	 * no references, each record handed to pass->fn; stop: what fn
	 * returned when it stopped the rebuild.
	 */
	struct resource_pass *pass;
	int stop;
	/*
	 * Checking files on a worker thread (resource.c, check_files()):
	 * the names the file declares go here, to be checked for
	 * duplicates when the files are merged in their order.
	 */
	struct file_out *out;
	int enabled;		/* the current execution is enabled */
	const char *rtype;	/* the current resource, for messages */
	const char *rname;
	/* scalar defaults, made once per load and shared (resource.h) */
	struct {
		const struct schema_field *f;
		json_t *v;
	} defs[DEF_SLOTS];
};

#define ERR(c, v, ...) res_diag((c), 1, (v)->line, (v)->col, __VA_ARGS__)
#define WARN(c, v, ...) res_diag((c), 0, (v)->line, (v)->col, __VA_ARGS__)

/* " (did you mean 'x'?)" for the nearest of the candidates, or "". */
struct suggest {
	const char *best;
	int dist;
	int cap;
};

/*
 * Diagnostics (resource.c): one line each, "PATH:LINE:COL: message",
 * counted in c->errors (warnings too, when strict).
 */
void res_emit(struct ctx *c, int is_error, const char *loc, const char *msg);
void res_note(struct ctx *c, const char *loc, const char *msg);
int res_file_col(const struct file *f, int line, int col);
char *res_loc_str(struct ctx *c, int line, int col);
void res_diag(struct ctx *c, int is_error, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const char *res_article(const char *word);
void res_type_error(struct ctx *c, const struct toml_value *v, const char *key,
    const char *want);
void res_suggest_init(struct suggest *s, const char *key);
void res_suggest_try(struct suggest *s, const char *key, const char *cand);
void res_suggest_table(struct suggest *s, const char *key,
    const struct schema_table *t);
void res_unknown_key(struct ctx *c, const struct toml_kv *kv, const char *where,
    struct suggest *s);

/* resource_convert.c: Komodo's flexible formats */
json_t *res_fdefault(struct ctx *c, const struct schema_field *f);
int res_want_type(struct ctx *c, const struct toml_value *v, enum toml_type t,
    const char *key);
json_t *res_string_list(struct ctx *c, const struct toml_value *v,
    const char *key, int interp);
/* A config field a check-only record keeps (the rest slim() lets go). */
int res_lean_keeps(const char *field);
void res_parse_fields(struct ctx *c, const struct schema_table *t,
    const struct toml_value *tbl, json_t *out);
void res_parse_fields_skip(struct ctx *c, const struct schema_table *t,
    const struct toml_value *tbl, json_t *out, const char *const *skip);
json_t *res_builder_config(struct ctx *c, const struct toml_value *cfg);
void res_secret_variable(struct ctx *c, const struct toml_value *tbl,
    json_t *rec, json_t *config, int named);

/* resource_refs.c: references between resources, pull mode */
void res_add_ref(struct ctx *c, enum ref_kind kind, const char *type,
    const char *name, size_t namelen, int line, int col, json_t *slot);
void res_check_refs(struct ctx *c);
void res_check_cycles(struct ctx *c);
int res_keep(struct ctx *c, json_t *rec, int active, json_t *swarm_first,
    const char **other);
void res_note_others(struct ctx *c, json_t *others, size_t n);

#endif
