/*
 * tap: the Test Anything Protocol for kom's C unit tests, read by prove.
 *
 *	ok(cond, "name %d", i);  is_int(got, want, "name");
 *	is_str(got, want, "name");  diag("...");  return done_testing();
 *	ok(survives(fn, arg), "fn(arg) does not crash");
 *
 * The plan is printed at the end, so tests need not count themselves.
 * done_testing() returns the exit status: 0 when every test passed.
 */
#ifndef KOM_TAP_H
#define KOM_TAP_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define is_int(got, want, ...) do { \
	long long got_ = (long long)(got), want_ = (long long)(want); \
	if (!ok(got_ == want_, __VA_ARGS__)) \
		diag("got %lld, want %lld", got_, want_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *gs_ = (got), *ws_ = (want); \
	if (!ok(gs_ && ws_ ? strcmp(gs_, ws_) == 0 : gs_ == ws_, __VA_ARGS__)) \
		diag("got '%s', want '%s'", gs_ ? gs_ : "(null)", \
		    ws_ ? ws_ : "(null)"); \
} while (0)

/*
 * Run fn(arg) in a child process: 1 when it returned, 0 when it crashed,
 * aborted or exited, so that "does not crash" is a test that can fail
 * and the rest still run.
 */
__attribute__((unused)) static int
survives(void (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

__attribute__((unused)) static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		diag("failed %d of %d", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

/* rm -rf of a test's temporary directory. */
static int
tap_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

__attribute__((unused)) static void
tap_rm_rf(const char *dir)
{
	nftw(dir, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
