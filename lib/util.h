/*
 * util: exit statuses, diagnostics and checked allocation shared by every
 * kom program.
 *
 * Diagnostics go to stderr as one line, "PROG: message", where PROG is the
 * short name the program was invoked as.  The allocation helpers never
 * return NULL: they print a diagnostic and exit KOM_EX_SOFTWARE instead.
 */
#ifndef KOM_UTIL_H
#define KOM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* The exit table (kom(7), EXIT STATUS). */
enum {
	KOM_EX_OK = 0,		/* done */
	KOM_EX_NO = 1,		/* a valid "no": nothing to do, lock busy, a step failed */
	KOM_EX_USAGE = 64,	/* bad command line */
	KOM_EX_DATAERR = 65,	/* bad input: TOML, JSON lines, truncated stream */
	KOM_EX_UNAVAILABLE = 69,/* a service is unavailable: Docker, git remote */
	KOM_EX_SOFTWARE = 70,	/* internal error */
	KOM_EX_IOERR = 74,	/* a local file could not be read or written */
	KOM_EX_TEMPFAIL = 75,	/* temporary failure, retry later */
	KOM_EX_CONFIG = 78	/* bad configuration (kom.toml) */
};

#define KOM_VERSION "0.1.0"

/* "PROG: fmt\n" on stderr. */
void kom_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: fmt: strerror(errno)\n" on stderr; errno is preserved. */
void kom_warne(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kom_vwarn(const char *fmt, va_list ap);
/* kom_warn, then exit(status). */
noreturn void kom_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* kom_warne, then exit(status). */
noreturn void kom_diee(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Checked allocation: never NULL, dies with KOM_EX_SOFTWARE. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: like reallocarray(3), overflow of nmemb*size dies. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overflow-checked size arithmetic: die instead of wrapping. */
size_t st_add(size_t a, size_t b);
size_t st_mul(size_t a, size_t b);

/* Grow *cap (doubling) so that it holds at least need elements. */
#define KOM_GROW(p, need, cap) do { \
	if ((size_t)(need) > (cap)) { \
		size_t kom_nc_ = (cap) ? (cap) : 8; \
		while (kom_nc_ < (size_t)(need)) \
			kom_nc_ = st_mul(kom_nc_, 2); \
		(p) = xreallocarray((p), kom_nc_, sizeof(*(p))); \
		(cap) = kom_nc_; \
	} \
} while (0)

#define KOM_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds of a monotonic clock (for durations, deadlines) / of the
 * wall clock (unix ms, for timestamps). */
long long kom_mono_ms(void);

/* fn(arg) on nthreads threads (at most KOM_MAX_THREADS), this one among
 * them, until all have returned; fewer when a thread cannot be made. */
#define KOM_MAX_THREADS 8
void kom_run_threads(void *(*fn)(void *), void *arg, int nthreads);
long long kom_wall_ms(void);
long long kom_wall_ns(void);

/* FNV-1a, 64 bits: the hash of the project's small open-addressing
 * indexes (a TOML table's keys, names in the after-cycle check). */
static inline uint64_t
kom_fnv1a(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (unsigned char)*k++) * 0x100000001b3ULL;
	return h;
}

/*
 * The length of the UTF-8 sequence at p (avail bytes there), as jansson
 * and TOML check it: 1 for ASCII, 0 when it is not valid (a stray or
 * lead byte, a short or overlong sequence, a surrogate, above U+10FFFF).
 * A NUL is never a continuation byte, so a NUL-terminated string may be
 * given as avail 4.  Inline: the parsers call it for every non-ASCII
 * character.
 */
static inline size_t
kom_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0], v;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		len = 2, v = c & 0x1f;
	else if (c < 0xf0)
		len = 3, v = c & 0x0f;
	else if (c < 0xf5)
		len = 4, v = c & 0x07;
	else
		return 0;
	if (avail < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return len;
}

/* Whether the len bytes at s are all valid UTF-8 (kom_utf8_len). */
static inline int
kom_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(n = kom_utf8_len(p + i, len - i)))
			return 0;
		i += n;
	}
	return 1;
}

/* The value of hex digit c, or -1. */
int kom_hexval(int c);
/* n bytes as 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void kom_hex(const unsigned char *p, size_t n, char *out);
/* The reverse: the first 2n characters of s, lowercase hex digits only
 * (the one form kom writes), into n bytes; 0, or -1 when they are not. */
int kom_unhex(const char *s, unsigned char *out, size_t n);
/* SHA-256 of n bytes as 64 lowercase hex digits and a NUL. */
void kom_sha256_hex(const void *p, size_t n, char out[65]);

/*
 * The end of every main(): flush and close stdout.  When a write failed
 * (now or earlier: the stream's error flag), print "PROG: stdout:
 * strerror" and return KOM_EX_IOERR, whatever status was: what went
 * downstream is cut short, which matters more than why; otherwise return
 * status.
 */
int kom_close_stdout(int status);

/* 1 when colour may be used on fd: a terminal, and NO_COLOR unset. */
int kom_use_color(int fd);

#endif
