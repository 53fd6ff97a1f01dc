/* Unit tests for lib/util: hex, SHA-256, UTF-8, clocks, closing stdout. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "tap.h"

/* The exit status of a child that writes text to stdout on path and
 * ends with kom_close_stdout(status); -1 when it could not run. */
static int
close_into(const char *path, const char *text, int status)
{
	pid_t pid;
	int ws, fd;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open(path, O_WRONLY)) < 0 || dup2(fd, 1) < 0)
			_exit(99);
		close(2);	/* the diagnostic is not TAP */
		fputs(text, stdout);
		_exit(kom_close_stdout(status));
	}
	if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static size_t
u8(const char *s, size_t n)
{
	return kom_utf8_len((const unsigned char *)s, n);
}

int
main(void)
{
	unsigned char bytes[4] = { 0x00, 0x7f, 0xa0, 0xff }, back[4];
	char hex[9], sha[65];
	long long m1, m2, w;

	/* hex */
	kom_hex(bytes, 4, hex);
	is_str(hex, "007fa0ff", "kom_hex: lowercase, two digits a byte");
	ok(kom_unhex(hex, back, 4) == 0 && !memcmp(back, bytes, 4),
	    "kom_unhex reverses it");
	ok(kom_unhex("007FA0FF", back, 4) < 0, "uppercase is refused");
	ok(kom_unhex("007fa0f", back, 4) < 0, "a short string is refused");
	ok(kom_unhex("0x7fa0ff", back, 4) < 0, "a non-digit is refused");
	is_int(kom_hexval('a'), 10, "kom_hexval");
	is_int(kom_hexval('g'), -1, "kom_hexval of a non-digit");

	/* SHA-256 (FIPS 180-2's "abc" and the empty string) */
	kom_sha256_hex("abc", 3, sha);
	is_str(sha, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	kom_sha256_hex("", 0, sha);
	is_str(sha, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "sha256 of nothing");

	/* UTF-8 */
	is_int(u8("a", 1), 1, "ASCII is 1");
	is_int(u8("\xc3\xa9", 2), 2, "e acute is 2");
	is_int(u8("\xe2\x82\xac", 3), 3, "euro sign is 3");
	is_int(u8("\xf0\x9f\x98\x80", 4), 4, "an emoji is 4");
	is_int(u8("\xc3\xa9", 1), 0, "cut short: 0");
	is_int(u8("\xc0\xaf", 2), 0, "overlong 2-byte: 0");
	is_int(u8("\xe0\x80\xaf", 3), 0, "overlong 3-byte: 0");
	is_int(u8("\xed\xa0\x80", 3), 0, "a surrogate: 0");
	is_int(u8("\xf4\x90\x80\x80", 4), 0, "above U+10FFFF: 0");
	is_int(u8("\x80", 1), 0, "a stray continuation byte: 0");
	is_int(u8("\xc3", 4), 0, "a NUL ends a sequence (avail 4)");

	/* clocks */
	m1 = kom_mono_ms();
	m2 = kom_mono_ms();
	w = kom_wall_ms();
	ok(m2 >= m1, "the monotonic clock does not go back");
	ok(w > 1700000000000LL, "the wall clock is unix ms");

	/* closing stdout */
	is_int(close_into("/dev/null", "x\n", 0), 0, "a good close keeps 0");
	is_int(close_into("/dev/null", "x\n", 1), 1, "and keeps a 'no'");
	is_int(close_into("/dev/full", "x\n", 0), KOM_EX_IOERR,
	    "a failed write is 74");
	is_int(close_into("/dev/full", "x\n", KOM_EX_DATAERR), KOM_EX_IOERR,
	    "whatever the status was");
	is_int(close_into("/dev/full", "", 0), 0,
	    "nothing written, nothing failed");
	return done_testing();
}
