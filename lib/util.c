#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* SHA-256 without EVP, as lib/state.c says why: no provider to load */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include "util.h"
#include "banned.h"

void
kom_vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
kom_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kom_vwarn(fmt, ap);
	va_end(ap);
}

/* "PROG: fmt: strerror(e)\n" */
static void
vwarne(int e, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
}

void
kom_warne(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vwarne(e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
kom_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kom_vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
kom_diee(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarne(errno, fmt, ap);
	va_end(ap);
	exit(status);
}

int
kom_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long long
clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
kom_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

long long
kom_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

long long
kom_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
kom_close_stdout(int status)
{
	int bad = ferror(stdout), e = bad ? EIO : 0;

	if (fflush(stdout) == EOF) {
		bad = 1;
		e = errno;
	}
	if (fclose(stdout) == EOF && !bad) {
		bad = 1;
		e = errno;
	}
	if (!bad)
		return status;
	errno = e;
	kom_warne("stdout");
	return KOM_EX_IOERR;
}

void
kom_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
kom_unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((s[2 * i] >= 'A' && s[2 * i] <= 'F') ||
		    (s[2 * i + 1] >= 'A' && s[2 * i + 1] <= 'F'))
			return -1;
		/* a NUL is no digit: the loop never reads past it */
		if ((hi = kom_hexval(s[2 * i])) < 0 ||
		    (lo = kom_hexval(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

void
kom_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	/* not SHA256(): in OpenSSL 3 it goes through EVP */
	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, p, n) != 1 ||
	    SHA256_Final(md, &c) != 1)
		kom_die(KOM_EX_SOFTWARE, "sha256 failed");
	kom_hex(md, sizeof(md), out);
}

static noreturn void
oom(size_t n)
{
	kom_die(KOM_EX_SOFTWARE, "out of memory allocating %zu bytes", n);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(st_mul(nmemb, size));
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	return xrealloc(p, st_mul(nmemb, size));
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len = strnlen(s, n);

	p = xmalloc(st_add(len, 1));
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}

size_t
st_add(size_t a, size_t b)
{
	if (SIZE_MAX - a < b)
		kom_die(KOM_EX_SOFTWARE, "size overflow: %zu + %zu", a, b);
	return a + b;
}

size_t
st_mul(size_t a, size_t b)
{
	if (a && SIZE_MAX / a < b)
		kom_die(KOM_EX_SOFTWARE, "size overflow: %zu * %zu", a, b);
	return a * b;
}

int
kom_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return 0;
	return isatty(fd);
}

void
kom_run_threads(void *(*fn)(void *), void *arg, int nthreads)
{
	pthread_t th[KOM_MAX_THREADS];
	int k, n = 0;

	if (nthreads > KOM_MAX_THREADS)
		nthreads = KOM_MAX_THREADS;
	for (k = 1; k < nthreads; k++)
		if (pthread_create(&th[n], NULL, fn, arg) == 0)
			n++;
	fn(arg);
	for (k = 0; k < n; k++)
		pthread_join(th[k], NULL);
}
