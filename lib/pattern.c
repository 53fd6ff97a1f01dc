#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "pattern.h"
#include "util.h"
#include "banned.h"

struct item {
	char *text;		/* the wildcard, or NULL for a regex */
	regex_t re;
};

struct pattern {
	struct item *items;
	size_t n;
};

size_t
pattern_split(const char *s, char ***items)
{
	size_t n = 0;

	*items = NULL;
	kv_split_list(s, strlen(s), items, &n);
	return n;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t
utf8_len(const char *s)
{
	size_t n = kom_utf8_len((const unsigned char *)s, 4);

	return n ? n : 1;
}

/*
 * Greedy matching with one backtrack point (the last '*'): linear in
 * practice, O(len(pat) * len(name)) at worst, never exponential.
 */
int
pattern_wildcard(const char *pat, const char *name)
{
	const char *p = pat, *s = name, *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?') {
			p++;
			s += utf8_len(s);
		} else if (*p && *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			resume += utf8_len(resume);
			s = resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

struct pattern *
pattern_new(const char *spec, char **err)
{
	struct pattern *p = xcalloc(1, sizeof(*p));
	char **v, ebuf[256];
	size_t n, i, len;
	int rc;

	*err = NULL;
	n = pattern_split(spec, &v);
	p->items = xcalloc(n ? n : 1, sizeof(*p->items));
	for (i = 0; i < n; i++) {
		len = strlen(v[i]);
		if (len >= 2 && v[i][0] == '\\' && v[i][len - 1] == '\\') {
			char *re = xstrndup(v[i] + 1, len - 2);

			rc = regcomp(&p->items[p->n].re, re,
			    REG_EXTENDED | REG_NOSUB);
			free(re);
			if (rc != 0) {
				regerror(rc, &p->items[p->n].re, ebuf,
				    sizeof(ebuf));
				*err = xasprintf("invalid regex '%s' in pattern: "
				    "%s", v[i], ebuf);
				regfree(&p->items[p->n].re);
				for (; i < n; i++)
					free(v[i]);
				free(v);
				pattern_free(p);
				return NULL;
			}
			p->items[p->n++].text = NULL;
			free(v[i]);
		} else {
			p->items[p->n++].text = v[i];
		}
	}
	free(v);
	return p;
}

int
pattern_match(const struct pattern *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->items[i].text) {
			if (pattern_wildcard(p->items[i].text, name))
				return 1;
		} else if (regexec(&p->items[i].re, name, 0, NULL, 0) == 0) {
			return 1;
		}
	}
	return 0;
}

size_t
pattern_count(const struct pattern *p)
{
	return p->n;
}

void
pattern_free(struct pattern *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		if (p->items[i].text)
			free(p->items[i].text);
		else
			regfree(&p->items[i].re);
	}
	free(p->items);
	free(p);
}
