/*
 * shellwords: split a command string into an argv the way a POSIX shell
 * would, without running a shell and without expanding anything.
 *
 * Rules (POSIX sh token recognition, reduced to words):
 *	blanks (space, tab, newline) separate words;
 *	'...' keeps everything inside literally;
 *	"..." keeps everything literally except \ before $ ` " \ and
 *	newline, which escapes it (\newline disappears);
 *	an unquoted \ escapes the next character (\newline disappears);
 *	an unquoted # at the start of a word starts a comment to end of line;
 *	"" and '' make an empty word.
 * No expansion happens: $VAR, ${VAR}, $(cmd), `cmd`, ~ and globs stay as
 * written.  Unquoted shell operators (| & ; < > ( )) would need a shell,
 * so they are an error, as is an unterminated quote or a trailing \.
 *
 * Errors: -1 with one lowercase line in err (errlen bytes), e.g.
 * "unterminated single quote at offset 4".
 */
#ifndef KOM_SHELLWORDS_H
#define KOM_SHELLWORDS_H

#include <stddef.h>

/*
 * Split s.  On success returns 0, *argv is a NULL-terminated array of
 * fresh strings (free with shellwords_free) and *argc (when argc is not
 * NULL) the number of words; an empty or blank s gives zero words.
 */
int shellwords_split(const char *s, char ***argv, size_t *argc, char *err,
    size_t errlen);

/* Free an argv from shellwords_split (NULL is fine). */
void shellwords_free(char **argv);

#endif
