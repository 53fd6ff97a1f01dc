/* kom-plan -H and -g: the plan for people and for dot(1). */
#include <string.h>

#include "jsonl.h"
#include "render.h"
#include "util.h"
#include "banned.h"

static const char *
str(const json_t *o, const char *key)
{
	return jsonl_str(o, key, "");
}

static long
num(const json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

/* The actions in the order the summary lists them, with their colours. */
static const struct {
	const char *action, *fill, *ansi;
} actions[] = {
	{ "record", "#cfe2ff", "34" },
	{ "remove", "#e2e3e5", "2" },
	{ "destroy", "#f8d7da", "31" },
	{ "deploy", "#d1e7dd", "32" },
	{ "ensure", "#fff3cd", "33" },
	{ "start", "#e9d8fd", "35" },
	{ "stop", "#e9d8fd", "35" },
	{ "restart", "#e9d8fd", "35" },
	{ "pause", "#e9d8fd", "35" },
	{ "unpause", "#e9d8fd", "35" },
	{ "pull", "#e9d8fd", "35" },
	{ "sleep", "#ffffff", "2" },
	{ "refuse", "#f8d7da", "31" },
	{ "execution", "#ffffff", "35" },
};

static size_t
action_index(const char *a)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(actions); i++)
		if (strcmp(a, actions[i].action) == 0)
			return i;
	return KOM_NELEM(actions) - 1;
}

int
render_human(FILE *fp, json_t *const *steps, size_t n, int stages,
    int color)
{
	size_t counts[KOM_NELEM(actions)] = { 0 }, i, k, shown = 0;
	long stage = 0;

	if (n == 0)
		fputs("nothing to do\n", fp);
	for (i = 0; i < n; i++) {
		const json_t *s = steps[i], *needs = json_object_get(s,
		    "needs"), *v;
		size_t ai = action_index(str(s, "action"));

		if (num(s, "stage") != stage) {
			stage = num(s, "stage");
			fprintf(fp, "%sstage %ld\n", i ? "\n" : "", stage);
		}
		counts[ai]++;
		fprintf(fp, "  #%-4ld ", num(s, "id"));
		if (color)
			fprintf(fp, "\033[%sm", actions[ai].ansi);
		fprintf(fp, "%-9s", str(s, "action"));
		if (color)
			fputs("\033[m", fp);
		fprintf(fp, " %s '%s': %s", str(s, "type"), str(s, "name"),
		    str(s, "reason"));
		if (json_array_size(needs)) {
			fputs(" [after", fp);
			json_array_foreach(needs, k, v)
				fprintf(fp, "%s #%ld", k ? "," : "",
				    (long)json_integer_value(v));
			fputc(']', fp);
		}
		fputc('\n', fp);
	}
	fprintf(fp, "%s%zu step%s in %d stage%s", n ? "\n" : "", n,
	    n == 1 ? "" : "s", stages, stages == 1 ? "" : "s");
	for (i = 0; i < KOM_NELEM(actions); i++)
		if (counts[i])
			fprintf(fp, "%s%zu %s", shown++ ? ", " : ": ",
			    counts[i], actions[i].action);
	fputc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

/* s as the inside of a dot double-quoted string. */
static void
dot_quote(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

int
render_dot(FILE *fp, json_t *const *steps, size_t n, int stages)
{
	size_t i, k;
	long stage = 0;
	json_t *v;

	fputs("digraph plan {\n"
	    "\trankdir=LR;\n"
	    "\tnode [shape=box, style=\"rounded,filled\", "
	    "fontname=\"Helvetica\", fontsize=10];\n", fp);
	for (i = 0; i < n; i++) {
		const json_t *s = steps[i];

		if (num(s, "stage") != stage) {
			if (stage)
				fputs("\t}\n", fp);
			stage = num(s, "stage");
			fprintf(fp, "\tsubgraph cluster_%ld {\n"
			    "\t\tlabel=\"stage %ld\";\n\t\tstyle=dashed;\n",
			    stage, stage);
		}
		fprintf(fp, "\t\ts%ld [label=\"#%ld %s\\n", num(s, "id"),
		    num(s, "id"), str(s, "action"));
		dot_quote(fp, str(s, "type"));
		fputs(" '", fp);
		dot_quote(fp, str(s, "name"));
		fprintf(fp, "'\", fillcolor=\"%s\", tooltip=\"",
		    actions[action_index(str(s, "action"))].fill);
		dot_quote(fp, str(s, "reason"));
		fputs("\"];\n", fp);
	}
	if (stage)
		fputs("\t}\n", fp);
	for (i = 0; i < n; i++)
		json_array_foreach(json_object_get(steps[i], "needs"), k, v)
			fprintf(fp, "\ts%ld -> s%ld;\n",
			    (long)json_integer_value(v), num(steps[i], "id"));
	fprintf(fp, "\tlabel=\"kom-plan: %zu steps in %d stages\";\n}\n", n,
	    stages);
	return ferror(fp) ? -1 : 0;
}
