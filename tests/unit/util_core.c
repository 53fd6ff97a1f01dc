/*
 * util_core: lib/util's diagnostics, exit statuses, checked allocation
 * and sizes, hex digits and the colour rule.  What dies is run in a
 * child, its stderr and exit status compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

#ifdef __SANITIZE_ADDRESS__
/* Let an impossible malloc return NULL, as libc's does, not abort. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* Run fn(arg) in a child: its exit status (-1 for a signal), stderr. */
static int
child(void (*fn)(void *), void *arg, struct buf *err)
{
	int p[2], st;
	pid_t pid;

	buf_reset(err);
	if (pipe(p) < 0)
		return -2;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		close(p[0]);
		fn(arg);
		fflush(stderr);
		_exit(0);
	}
	close(p[1]);
	file_read_fd(p[0], err, 1 << 16);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
warn_line(void *arg)
{
	kom_warn("%s:%d: %s", "f.toml", 3, "unknown key 'x'");
}

static void
warne_line(void *arg)
{
	errno = ENOENT;
	kom_warne("%s", "state.json");
	if (errno != ENOENT)
		_exit(9);	/* kom_warne must keep errno */
}

static void
die_line(void *arg)
{
	kom_die(KOM_EX_CONFIG, "bad %s", "kom.toml");
}

static void
diee_line(void *arg)
{
	errno = EACCES;
	kom_diee(KOM_EX_IOERR, "%s", "out.json");
}

static void
add_overflow(void *arg)
{
	st_add(SIZE_MAX - 1, 2);
}

static void
mul_overflow(void *arg)
{
	st_mul(SIZE_MAX / 2 + 1, 2);
}

static void
array_overflow(void *arg)
{
	free(xreallocarray(NULL, SIZE_MAX / 4, 8));
}

static void
huge_malloc(void *arg)
{
	free(xmalloc(SIZE_MAX / 4));	/* 4 EiB: no machine has them */
}

static void
test_diagnostics(void)
{
	struct buf e = BUF_INIT;

	is_int(child(warn_line, NULL, &e), 0, "kom_warn returns");
	is_str(e.s, "util_core.t: f.toml:3: unknown key 'x'\n",
	    "PROG: message, one line");
	is_int(child(warne_line, NULL, &e), 0, "kom_warne keeps errno");
	is_str(e.s, "util_core.t: state.json: No such file or directory\n",
	    "PROG: message: strerror(errno)");
	is_int(child(die_line, NULL, &e), KOM_EX_CONFIG,
	    "kom_die exits with its status");
	is_str(e.s, "util_core.t: bad kom.toml\n", "after its message");
	is_int(child(diee_line, NULL, &e), KOM_EX_IOERR,
	    "kom_diee exits with its status");
	is_str(e.s, "util_core.t: out.json: Permission denied\n",
	    "after its message and strerror");
	buf_free(&e);
}

static void
test_sizes(void)
{
	struct buf e = BUF_INIT;

	is_int(st_add(2, 3), 5, "st_add");
	is_int(st_add(SIZE_MAX - 1, 1) == SIZE_MAX, 1, "st_add to SIZE_MAX");
	is_int(st_mul(6, 7), 42, "st_mul");
	is_int(st_mul(0, SIZE_MAX), 0, "st_mul by 0");
	is_int(st_mul(SIZE_MAX, 1) == SIZE_MAX, 1, "st_mul by 1");
	is_int(child(add_overflow, NULL, &e), KOM_EX_SOFTWARE,
	    "st_add overflow dies with 70");
	is_str(e.s, "util_core.t: size overflow: 18446744073709551614 + 2\n",
	    "saying so");
	is_int(child(mul_overflow, NULL, &e), KOM_EX_SOFTWARE,
	    "st_mul overflow dies with 70");
	is_int(child(array_overflow, NULL, &e), KOM_EX_SOFTWARE,
	    "xreallocarray overflow dies with 70");
	is_str(e.s, "util_core.t: size overflow: 4611686018427387903 * 8\n",
	    "before allocating");
	is_int(child(huge_malloc, NULL, &e), KOM_EX_SOFTWARE,
	    "an allocation that cannot be had dies with 70");
	/* ASan may warn first: look for the line */
	ok(strstr(e.s, "util_core.t: out of memory allocating "
	    "4611686018427387903 bytes\n") != NULL, "saying so");
	buf_free(&e);
}

static void
test_alloc(void)
{
	char *s, *z;
	int *v;

	s = xstrndup("abcdef", 3);
	is_str(s, "abc", "xstrndup cuts");
	free(s);
	s = xstrndup("ab", 10);
	is_str(s, "ab", "xstrndup of a shorter string");
	free(s);
	s = xasprintf("%s-%d-%05.1f", "x", 42, 2.5);
	is_str(s, "x-42-002.5", "xasprintf");
	free(s);
	s = xstrdup("");
	is_str(s, "", "xstrdup of an empty string");
	free(s);
	z = xcalloc(16, 1);
	ok(z[0] == 0 && z[15] == 0, "xcalloc zeroes");
	free(z);
	v = NULL;
	{
		size_t cap = 0;

		KOM_GROW(v, 1, cap);
		is_int(cap, 8, "KOM_GROW starts at 8");
		KOM_GROW(v, 9, cap);
		is_int(cap, 16, "and doubles");
		KOM_GROW(v, 100, cap);
		is_int(cap, 128, "to the first power of two that holds need");
		v[99] = 7;
		KOM_GROW(v, 50, cap);
		ok(cap == 128 && v[99] == 7, "never shrinks");
	}
	free(v);
	is_int(KOM_NELEM((int[5]){ 0 }), 5, "KOM_NELEM");
}

static void
test_hex_color(void)
{
	static const char digits[] = "0123456789abcdefABCDEF";
	int bad = 0, fd;

	for (int c = 0; c < 256; c++) {
		const char *p = c ? strchr(digits, c) : NULL;
		int want = p == NULL ? -1 : (int)(p - digits) < 16 ?
		    (int)(p - digits) : (int)(p - digits) - 6;

		if (kom_hexval(c) != want) {
			diag("kom_hexval(%d) = %d, want %d", c, kom_hexval(c),
			    want);
			bad++;
		}
	}
	ok(bad == 0, "kom_hexval of every byte");
	is_int(kom_hexval(EOF), -1, "kom_hexval(EOF)");

	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	unsetenv("NO_COLOR");
	is_int(kom_use_color(fd), 0, "no colour on a file");
	close(fd);
	if ((fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0 &&
	    grantpt(fd) == 0 && unlockpt(fd) == 0) {
		int t = open(ptsname(fd), O_RDWR | O_NOCTTY | O_CLOEXEC);

		is_int(kom_use_color(t), 1, "colour on a terminal");
		setenv("NO_COLOR", "1", 1);
		is_int(kom_use_color(t), 0, "not with NO_COLOR");
		setenv("NO_COLOR", "", 1);
		is_int(kom_use_color(t), 1, "an empty NO_COLOR is unset");
		unsetenv("NO_COLOR");
		close(t);
	} else {
		ok(0, "open a pseudo-terminal");
	}
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	test_diagnostics();
	test_sizes();
	test_alloc();
	test_hex_color();
	return done_testing();
}
