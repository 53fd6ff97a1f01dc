/*
 * Unit and property tests for lib/plan: the deploy set, Kahn staging,
 * cycle reports.  The property test builds seeded random DAGs of up to
 * 10,000 deployments and stacks and checks the plan against an
 * independent computation of the longest paths; then it injects disjoint
 * cycles and checks that every one is reported with all its members.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t
below(size_t n)
{
	return (size_t)(rnd() % n);
}

static json_t *
res(const char *type, const char *name, const char *op, int deploy,
    json_t *after)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:[],s:[],s:{}}",
	    "kind", "resource", "type", type, "name", name, "op", op,
	    "source", "t.toml:1", "deploy", deploy, "after",
	    after ? after : json_array(), "changes", "deploy_changes",
	    "config");

	return r;
}

static void
add(struct plan *p, json_t *r)
{
	struct buf err = BUF_INIT;

	if (plan_add_resource(p, r, "test", &err) < 0)
		diag("add: %s", err.s);
	buf_free(&err);
	json_decref(r);
}

static const json_t *
step_named(struct plan *p, const char *action, const char *name)
{
	json_t *const *s;
	size_t n, i;

	s = plan_steps(p, &n);
	for (i = 0; i < n; i++)
		if (strcmp(json_string_value(json_object_get(s[i], "name")),
		    name) == 0 && strcmp(json_string_value(json_object_get(
		    s[i], "action")), action) == 0)
			return s[i];
	return NULL;
}

static long
geti(const json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static void
test_basics(void)
{
	struct plan *p = plan_new();
	struct buf err = BUF_INIT;
	const json_t *s;

	is_int(plan_type_order("variable"), 0, "type order: variables first");
	is_int(plan_type_order("procedure"), 12, "type order: procedures last");
	ok(plan_type_order("stack") < plan_type_order("deployment"),
	    "type order: stacks before deployments");
	is_int(plan_type_order("nonsense"), 13, "type order: unknown last");

	add(p, res("deployment", "db", "create", 1, NULL));
	add(p, res("stack", "web", "keep", 1, json_pack("[s]", "db")));
	add(p, res("server", "s1", "update", 0, NULL));
	add(p, res("deployment", "off", "keep", 1, json_pack("[s]", "db")));
	is_int(plan_build(p, &err), 0, "build");
	s = step_named(p, "record", "s1");
	ok(s && geti(s, "stage") == 1 && geti(s, "id") == 1,
	    "record first, stage 1");
	s = step_named(p, "deploy", "db");
	ok(s && geti(s, "stage") == 2, "deploy on creation in stage 2");
	s = step_named(p, "deploy", "web");
	ok(s && geti(s, "stage") == 3, "dependent in stage 3");
	is_str(s ? json_string_value(json_object_get(s, "reason")) : NULL,
	    "Deployment parent dependency 'db' is deploying",
	    "cascade reason, across types");
	ok(s && !json_object_get(json_object_get(s, "resource"), "op") &&
	    !json_object_get(json_object_get(s, "resource"), "kind"),
	    "resource without kind and op");
	is_int(plan_stages(p), 3, "three stages");
	plan_free(p);
	buf_free(&err);
}

/*
 * A random DAG: node i (in a shuffled naming order) is after up to 3
 * nodes of smaller index.  Ops are random; without live status every
 * deploy=true node gets a deploy or ensure step, so the stage of node i
 * is 1 + the longest chain of ancestors.
 */
static int
property(uint64_t seed, size_t n, size_t ncycles)
{
	struct plan *p = plan_new();
	struct buf err = BUF_INIT;
	size_t *perm = xcalloc(n, sizeof(*perm)), i, k, m, ns;
	long *depth = xcalloc(n, sizeof(*depth)), maxd = 0;
	int *deploys = xcalloc(n, sizeof(*deploys));
	size_t **par = xcalloc(n, sizeof(*par)), *npar = xcalloc(n,
	    sizeof(*npar));
	char name[64], **cyc_names = NULL;
	size_t ncyc_names = 0, cap = 0;
	json_t *const *steps;
	int fails = 0, rc;

	rng = seed;
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n; i > 1; i--) {
		size_t j = below(i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < n; i++) {
		json_t *after = json_array(), *r;
		const char *op;
		size_t deg = i ? below(4) : 0;
		int dc = 0;

		par[i] = xcalloc(deg + 1, sizeof(**par));
		for (k = 0; k < deg; k++) {
			size_t j = below(i);

			par[i][npar[i]++] = j;
			snprintf(name, sizeof(name), "n%zu", perm[j]);
			json_array_append_new(after, json_string(name));
			if (depth[j] + 1 > depth[i])
				depth[i] = depth[j] + 1;
		}
		if (depth[i] > maxd)
			maxd = depth[i];
		m = below(10);
		op = m == 0 ? "create" : m == 1 ? "update" : "keep";
		dc = m == 0 || m == 1;
		deploys[i] = dc;
		for (k = 0; k < npar[i]; k++)
			if (deploys[par[i][k]])
				deploys[i] = 1;
		snprintf(name, sizeof(name), "n%zu", perm[i]);
		r = res(perm[i] % 3 ? "deployment" : "stack", name, op, 1,
		    after);
		if (m == 1)
			json_object_set_new(r, "deploy_changes",
			    json_pack("[s]", "image"));
		add(p, r);
	}
	/* Disjoint rings of fresh nodes, tied to the DAG both ways. */
	for (i = 0; i < ncycles; i++) {
		size_t len = 1 + below(5);

		for (k = 0; k < len; k++) {
			json_t *after = json_array();

			snprintf(name, sizeof(name), "c%zu-%zu", i,
			    (k + 1) % len);
			json_array_append_new(after, json_string(name));
			snprintf(name, sizeof(name), "n%zu", perm[below(n)]);
			json_array_insert_new(after, below(2), json_string(
			    name));
			if (i > 0) {	/* downstream of the previous ring */
				snprintf(name, sizeof(name), "c%zu-0", i - 1);
				json_array_insert_new(after, below(3),
				    json_string(name));
			}
			snprintf(name, sizeof(name), "c%zu-%zu", i, k);
			KOM_GROW(cyc_names, ncyc_names + 1, cap);
			cyc_names[ncyc_names++] = xstrdup(name);
			add(p, res("deployment", name, "keep", 1, after));
		}
		/* a DAG node after the ring: downstream, not a member */
		snprintf(name, sizeof(name), "after-c%zu", i);
		add(p, res("deployment", name, "keep", 1, json_pack("[s]",
		    cyc_names[ncyc_names - 1])));
	}
	rc = plan_build(p, &err);
	if (ncycles) {
		size_t lines = 0, c = 0;
		const char *s;

		if (!ok(rc == -1, "seed %llu: %zu cycles: build fails",
		    (unsigned long long)seed, ncycles))
			fails++;
		for (s = err.s; *s; s++)
			lines += *s == '\n';
		is_int(lines, ncycles, "seed %llu: one line per cycle",
		    (unsigned long long)seed);
		for (i = 0; i < ncyc_names; i++) {
			char q[80];

			snprintf(q, sizeof(q), "deployment '%s' (",
			    cyc_names[i]);
			if (!strstr(err.s, q))
				c++;
		}
		is_int(c, 0, "seed %llu: every member of every cycle named",
		    (unsigned long long)seed);
		ok(!strstr(err.s, "after-c"), "seed %llu: downstream nodes "
		    "are not named", (unsigned long long)seed);
		goto done;
	}
	if (!ok(rc == 0, "seed %llu: %zu nodes: build", (unsigned long long)
	    seed, n)) {
		diag("%.200s", err.s);
		fails++;
		goto done;
	}
	steps = plan_steps(p, &ns);
	is_int(ns, n, "seed %llu: one step per node", (unsigned long long)seed);
	is_int(plan_stages(p), maxd + 1, "seed %llu: stages = longest path + "
	    "1", (unsigned long long)seed);
	{
		long *stage_of = xcalloc(ns + 1, sizeof(*stage_of));
		size_t *inv = xcalloc(n, sizeof(*inv));
		size_t bad_needs = 0, bad_stage = 0, bad_action = 0;
		size_t bad_count = 0;

		for (k = 0; k < n; k++)
			inv[perm[k]] = k;
		for (k = 0; k < ns; k++)
			stage_of[geti(steps[k], "id")] = geti(steps[k],
			    "stage");
		for (k = 0; k < ns; k++) {
			json_t *v;
			size_t j, node;
			const char *nm = json_string_value(json_object_get(
			    steps[k], "name"));
			const char *act = json_string_value(json_object_get(
			    steps[k], "action"));

			json_array_foreach(json_object_get(steps[k], "needs"),
			    j, v)
				if (stage_of[json_integer_value(v)] >=
				    geti(steps[k], "stage"))
					bad_needs++;
			node = (size_t)strtoul(nm + 1, NULL, 10);
			i = inv[node];
			if (geti(steps[k], "stage") != depth[i] + 1)
				bad_stage++;
			if ((strcmp(act, "deploy") == 0) != deploys[i])
				bad_action++;
			/* needs = the distinct parents */
			{
				size_t distinct = 0, a, b;

				for (a = 0; a < npar[i]; a++) {
					for (b = 0; b < a; b++)
						if (par[i][b] == par[i][a])
							break;
					distinct += b == a;
				}
				if (json_array_size(json_object_get(steps[k],
				    "needs")) != distinct)
					bad_count++;
			}
		}
		is_int(bad_needs, 0, "seed %llu: every need is in an earlier "
		    "stage", (unsigned long long)seed);
		is_int(bad_stage, 0, "seed %llu: stage = 1 + longest chain of "
		    "ancestors", (unsigned long long)seed);
		is_int(bad_action, 0, "seed %llu: deploy exactly when changed "
		    "or a parent deploys", (unsigned long long)seed);
		is_int(bad_count, 0, "seed %llu: needs = the parents",
		    (unsigned long long)seed);
		free(stage_of);
		free(inv);
	}
done:
	for (i = 0; i < n; i++)
		free(par[i]);
	for (i = 0; i < ncyc_names; i++)
		free(cyc_names[i]);
	free(cyc_names);
	free(par);
	free(npar);
	free(perm);
	free(depth);
	free(deploys);
	buf_free(&err);
	plan_free(p);
	return fails;
}

int
main(void)
{
	static const uint64_t seeds[] = { 1, 42, 2024, 0x5eed, 987654321 };
	size_t i;

	test_basics();
	for (i = 0; i < KOM_NELEM(seeds); i++)
		property(seeds[i], i == 0 ? 10000 : 200 + 900 * i, 0);
	for (i = 0; i < KOM_NELEM(seeds); i++)
		property(seeds[i] * 7 + 1, 1000 + 500 * i, 1 + i * 3);
	return done_testing();
}
