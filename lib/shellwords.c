/*
 * shellwords: POSIX shell word splitting without a shell (shellwords.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shellwords.h"
#include "util.h"
#include "banned.h"

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static int
is_operator(int c)
{
	return c != '\0' && strchr("|&;<>()", c) != NULL;
}

static void
push(char ***v, size_t *n, size_t *cap, char *w)
{
	KOM_GROW(*v, st_add(*n, 2), *cap);
	(*v)[(*n)++] = w;
	(*v)[*n] = NULL;
}

static int
fail(char **v, struct buf *w, char *err, size_t errlen, const char *what,
    size_t off)
{
	snprintf(err, errlen, "%s at offset %zu", what, off);
	shellwords_free(v);
	buf_free(w);
	return -1;
}

int
shellwords_split(const char *s, char ***argv, size_t *argc, char *err,
    size_t errlen)
{
	struct buf w = BUF_INIT;
	char **v = NULL;
	size_t n = 0, cap = 0, i = 0, start;
	int inword = 0;

	push(&v, &n, &cap, NULL);	/* makes v a valid empty argv */
	n = 0;
	while (s[i] != '\0') {
		char c = s[i];

		if (is_blank(c)) {
			if (inword) {
				push(&v, &n, &cap, buf_release(&w));
				inword = 0;
			}
			i++;
			continue;
		}
		if (c == '#' && !inword) {
			while (s[i] != '\0' && s[i] != '\n')
				i++;
			continue;
		}
		if (is_operator(c)) {
			char what[64];

			snprintf(what, sizeof(what),
			    "unquoted '%c' needs a shell (quote it, or run "
			    "sh -c '...')", c);
			return fail(v, &w, err, errlen, what, i);
		}
		inword = 1;
		if (c == '\\') {
			if (s[i + 1] == '\0')
				return fail(v, &w, err, errlen,
				    "trailing backslash", i);
			if (s[i + 1] != '\n')
				buf_addc(&w, s[i + 1]);
			i += 2;
			continue;
		}
		if (c == '\'') {
			start = i++;
			while (s[i] != '\'') {
				if (s[i] == '\0')
					return fail(v, &w, err, errlen,
					    "unterminated single quote", start);
				buf_addc(&w, s[i++]);
			}
			i++;
			continue;
		}
		if (c == '"') {
			start = i++;
			while (s[i] != '"') {
				if (s[i] == '\0')
					return fail(v, &w, err, errlen,
					    "unterminated double quote", start);
				if (s[i] == '\\' && s[i + 1] != '\0' &&
				    strchr("$`\"\\\n", s[i + 1]) != NULL) {
					if (s[i + 1] != '\n')
						buf_addc(&w, s[i + 1]);
					i += 2;
					continue;
				}
				buf_addc(&w, s[i++]);
			}
			i++;
			continue;
		}
		buf_addc(&w, c);
		i++;
	}
	if (inword)
		push(&v, &n, &cap, buf_release(&w));
	buf_free(&w);
	*argv = v;
	if (argc != NULL)
		*argc = n;
	return 0;
}

void
shellwords_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}
