/*
 * diff_human: the plan of kom-sync diff -H for a person (diff.h:
 * diff_render_human, diff_render_value).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "diff_int.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

/* ---- the human plan ---- */

static int
is_kv_entry(const json_t *e)
{
	return json_is_object(e) && ((json_object_get(e, "key") &&
	    json_object_get(e, "value")) || (json_object_get(e, "local") &&
	    json_object_get(e, "container")) || (json_object_get(e, "signal") &&
	    json_object_get(e, "label")));
}

static int
is_kv_list(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || !json_array_size(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!is_kv_entry(e))
			return 0;
	return 1;
}

static void
add_kv_entry(struct buf *b, const json_t *e)
{
	if (json_object_get(e, "key"))
		buf_printf(b, "%s=%s", sget(e, "key"), sget(e, "value"));
	else if (json_object_get(e, "local"))
		buf_printf(b, "%s:%s", sget(e, "local"), sget(e, "container"));
	else
		buf_printf(b, "%s: %s", sget(e, "signal"), sget(e, "label"));
}

/* A kv list as one string; skip: entries also in other are left out. */
static void
kv_string(struct buf *b, const json_t *v, const json_t *other, int *elided)
{
	size_t i, j, shown = 0;
	json_t *e, *f;
	int in_other;

	json_array_foreach(v, i, e) {
		in_other = 0;
		if (other)
			json_array_foreach(other, j, f)
				if (json_equal(e, f))
					in_other = 1;
		if (in_other) {
			*elided = 1;
			continue;
		}
		if (shown++)
			buf_adds(b, ", ");
		add_kv_entry(b, e);
	}
}

static char *
quote(const char *s)
{
	json_t *j = json_string(s);
	char *q;

	if (!j)		/* not UTF-8: show it as bytes were lost */
		return xstrdup("\"<binary>\"");
	q = jsonl_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	return q ? q : xstrdup("\"\"");
}

static char *
plain(const json_t *v)
{
	char *s;

	if (!v || json_is_null(v))
		return xstrdup("(none)");
	if (json_is_string(v))
		return quote(json_string_value(v));
	if (is_kv_list(v)) {
		struct buf b = BUF_INIT;
		int el = 0;
		char *q;

		kv_string(&b, v, NULL, &el);
		q = quote(b.s);
		buf_free(&b);
		return q;
	}
	s = jsonl_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : xstrdup("?");
}

/* Elide the middle of s to about max columns. */
static char *
elide(char *s, size_t max)
{
	size_t len = strlen(s), keep;
	char *r;

	if (len <= max || max < 12)
		return s;
	keep = (max - 3) / 2;
	r = xasprintf("%.*s...%s", (int)keep, s, s + len - keep);
	free(s);
	return r;
}

char *
diff_render_value(const json_t *v, size_t max)
{
	return elide(plain(v), max);
}

/* Both sides of a change, cut around where they differ when long. */
static void
render_change(struct buf *out, const json_t *from, const json_t *to,
    size_t max)
{
	char *a = plain(from), *b = plain(to);
	size_t la, lb, p = 0, s = 0;

	if ((strlen(a) > max || strlen(b) > max) && is_kv_list(from) &&
	    is_kv_list(to)) {
		struct buf x = BUF_INIT, y = BUF_INIT;
		int ea = 0, eb = 0;

		kv_string(&x, from, to, &ea);
		kv_string(&y, to, from, &eb);
		if (ea)
			buf_adds(&x, x.len ? ", ..." : "...");
		if (eb)
			buf_adds(&y, y.len ? ", ..." : "...");
		free(a);
		free(b);
		a = quote(x.s);
		b = quote(y.s);
		buf_free(&x);
		buf_free(&y);
	}
	la = strlen(a);
	lb = strlen(b);
	if (la > max || lb > max) {
		while (p < la && p < lb && a[p] == b[p])
			p++;
		while (s < la - p && s < lb - p &&
		    a[la - 1 - s] == b[lb - 1 - s])
			s++;
		if (p > 16 || s > 16) {
			size_t pk = p > 16 ? p - 8 : 0;	/* drop a[0..pk) */
			size_t sk = s > 16 ? s - 8 : 0;	/* drop the last sk */
			char *na = xasprintf("%s%.*s%s", pk ? "..." : "",
			    (int)(la - pk - sk), a + pk, sk ? "..." : "");
			char *nb = xasprintf("%s%.*s%s", pk ? "..." : "",
			    (int)(lb - pk - sk), b + pk, sk ? "..." : "");

			free(a);
			free(b);
			a = na;
			b = nb;
		}
	}
	a = elide(a, max);
	b = elide(b, max);
	buf_printf(out, "%s -> %s", a, b);
	free(a);
	free(b);
}

#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED "\033[31m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

/* "[[A]], [[B]]" from the keys of names. */
static void
add_names(struct buf *b, const json_t *names)
{
	const char *k;
	json_t *v;
	int first = 1;

	json_object_foreach((json_t *)names, k, v) {
		buf_printf(b, "%s[[%s]]", first ? "" : ", ", k);
		first = 0;
	}
}

static const char *
op_name(char op)
{
	return op == 'c' ? "create" : op == 'u' ? "update" : op == 'd' ?
	    "delete" : "keep";
}

/*
 * An unchanged deployment or stack is still redeployed by kom-exec when a
 * value it interpolates changes: kom-exec compares the interpolated
 * container spec (the config hash), which this diff never sees.  Say so:
 * for variables this diff updates, name the resources; for values it does
 * not compare (secret files, variables left out of the sync), say which.
 */
static void
explain_unchanged(struct buf *b, const struct diff_entry *v, size_t n,
    const char *refs)
{
	json_t *vars = json_object(), *changed = json_object(),
	    *unseen = json_object();
	const char *k, *first = NULL, *ftype = NULL;
	size_t i, j, nchanged = 0, nunseen = 0;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].type, "variable"))
			json_object_set_new(vars, v[i].name,
			    json_string(op_name(v[i].op)));
	for (i = 0; i < n; i++) {
		int uses_changed = 0, uses_unseen = 0;

		if (v[i].op != 'k' || (strcmp(v[i].type, "deployment") &&
		    strcmp(v[i].type, "stack")))
			continue;
		for (j = 0, k = refs + v[i].roff; j < v[i].nrefs;
		    j++, k += strlen(k) + 1) {
			const char *op = json_string_value(json_object_get(vars,
			    k));

			if (!op) {
				json_object_set_new(unseen, k, json_true());
				uses_unseen = 1;
			} else if (strcmp(op, "keep")) {
				json_object_set_new(changed, k, json_true());
				uses_changed = 1;
			}
		}
		if (uses_changed && !nchanged++) {
			first = v[i].name;
			ftype = v[i].type;
		}
		nunseen += uses_unseen;
	}
	if (nchanged) {
		buf_printf(b, "Note: %s '%s'", ftype, first);
		if (nchanged > 1)
			buf_printf(b, " and %zu more", nchanged - 1);
		buf_printf(b, " %s unchanged here but use%s ", nchanged > 1 ?
		    "are" : "is", nchanged > 1 ? "" : "s");
		add_names(b, changed);
		buf_printf(b, ", which this diff changes: kom-exec redeploys "
		    "%s.\n", nchanged > 1 ? "them" : "it");
	}
	if (nunseen) {
		buf_printf(b, "Note: %zu unchanged %s ", nunseen, nunseen == 1 ?
		    "deployment or stack uses" : "deployments and stacks use");
		add_names(b, unseen);
		buf_printf(b, ", whose values this diff does not compare (secret "
		    "files, variables left out of the sync): a value changed "
		    "there redeploys %s at apply time (kom-exec says "
		    "drifted).\n", nunseen == 1 ? "it" : "them");
	}
	json_decref(vars);
	json_decref(changed);
	json_decref(unseen);
}

void
diff_human_entry(struct diff_entry *e, const json_t *r, struct buf *text,
    struct buf *refs, int color, int verbose)
{
	const json_t *ch, *dc;
	const char *op = sget(r, "op"), *type = sget(r, "type"), *mark, *col;
	const char *src, *k;
	json_t *names, *x;
	size_t j;

	if (!strcmp(op, "keep") && (!strcmp(type, "deployment") ||
	    !strcmp(type, "stack"))) {
		names = json_object();
		diff_collect_refs(json_object_get(r, "config"), names);
		e->roff = refs->len;
		json_object_foreach(names, k, x) {
			buf_add(refs, k, strlen(k) + 1);
			e->nrefs++;
		}
		json_decref(names);
	}
	if (!strcmp(op, "keep") && !verbose)
		return;
	if (!strcmp(op, "create"))
		mark = "+", col = C_GREEN;
	else if (!strcmp(op, "update"))
		mark = "~", col = C_YELLOW;
	else if (!strcmp(op, "delete"))
		mark = "-", col = C_RED;
	else
		mark = " ", col = "";
	src = sget(r, "source");
	buf_printf(text, "%s%s %s %s '%s'%s", color ? col : "", mark, op,
	    type, sget(r, "name"), color && *col ? C_RESET : "");
	if (*src)
		buf_printf(text, " (%s)", src);
	dc = json_object_get(r, "deploy_changes");
	if (json_array_size(dc)) {
		buf_adds(text, " [deploy: ");
		for (j = 0; j < json_array_size(dc); j++)
			buf_printf(text, "%s%s", j ? ", " : "",
			    json_string_value(json_array_get(dc, j)));
		buf_addc(text, ']');
	}
	buf_addc(text, '\n');
	json_array_foreach(json_object_get(r, "changes"), j, ch) {
		buf_printf(text, "    %s: ", sget(ch, "path"));
		render_change(text, json_object_get(ch, "from"),
		    json_object_get(ch, "to"), 60);
		buf_addc(text, '\n');
	}
}

void
diff_human_plan(FILE *fp, const struct diff_entry *v, size_t n,
    const char *text, const char *refs, const struct diff_counts *c,
    int color, int verbose)
{
	const char *last = NULL;
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].op == 'k' && !verbose)
			continue;
		if (last && strcmp(last, v[i].type))
			buf_addc(&b, '\n');
		last = v[i].type;
		buf_add(&b, text + v[i].off, v[i].len);
	}
	if (b.len)
		buf_addc(&b, '\n');
	buf_printf(&b, "%sPlan: %ld to create, %ld to update, %ld to delete, "
	    "%ld unchanged.%s\n", color ? C_BOLD : "", c->create, c->update,
	    c->delete, c->keep, color ? C_RESET : "");
	explain_unchanged(&b, v, n, refs);
	fwrite(b.s, 1, b.len, fp);
	buf_free(&b);
}

void
diff_render_human(FILE *fp, const json_t *records,
    const struct diff_counts *c, int color, int verbose)
{
	struct diff_entry *v;
	struct buf text = BUF_INIT, refs = BUF_INIT;
	const json_t *r;
	size_t i, n = json_array_size(records);

	v = xcalloc(n ? n : 1, sizeof(*v));
	json_array_foreach(records, i, r) {
		v[i].type = (char *)sget(r, "type");
		v[i].name = (char *)sget(r, "name");
		v[i].op = sget(r, "op")[0];
		v[i].off = text.len;
		diff_human_entry(&v[i], r, &text, &refs, color, verbose);
		v[i].len = text.len - v[i].off;
	}
	diff_human_plan(fp, v, n, text.s, refs.s, c, color, verbose);
	free(v);
	buf_free(&text);
	buf_free(&refs);
}
