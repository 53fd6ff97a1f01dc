/*
 * The other kom programs kom-poll starts: those beside its own binary
 * (an installed set, or a build tree), else found in PATH.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "poll.h"
#include "util.h"
#include "banned.h"

char *
poll_tool(const char *name)
{
	char self[PATH_MAX], *dir, *p;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = file_dirname(self);
		p = xasprintf("%s/%s", dir, name);
		free(dir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(name);
}
