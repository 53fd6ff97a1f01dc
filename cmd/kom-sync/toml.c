/*
 * kom-sync toml: decode one TOML document and print it as JSON, so that the
 * parser can be checked against the official toml-test suite and users can
 * see exactly what kom read.
 *
 *	kom-sync toml [-t] [file]
 *
 * Reads file (or stdin) as raw bytes and writes one JSON object on one
 * line.  -t uses toml-test's tagged encoding ({"type":..,"value":..} for
 * every scalar).  A hidden -q parses without printing, for benchmarks;
 * a hidden -J prints through jansson, the reference for a test.
 * Invalid TOML: one "file:line:col: message" line on stderr, exit 65.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <jansson.h>

#include "buf.h"
#include "file.h"
#include "sync-toml.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

/* Far above any resource file, small enough that a runaway stdin stops. */
#define TOML_MAX_INPUT (512u << 20)

static const char usage[] = "usage: kom-sync toml [-t] [file]";

/* Write what the printer has so far: large chunks, each write checked. */
static int
flush_stdout(struct buf *b, void *arg)
{
	size_t n = fwrite(b->s, 1, b->len, stdout);
	int r = n == b->len ? 0 : -1;

	(void)arg;
	buf_reset(b);
	return r;
}

static int
print_json(const struct toml_value *root, int tagged)
{
	struct buf b = BUF_INIT;
	int r;

	buf_grow(&b, TOML_JSON_CHUNK + (64u << 10));
	r = toml_json(root, tagged, &b, flush_stdout, NULL);
	if (r == 0) {
		buf_addc(&b, '\n');
		r = flush_stdout(&b, NULL);
	}
	buf_free(&b);
	return r;
}

/* The hidden -J: the jansson tree and json_dumpf(), the output this
 * command had before the direct printer, for the test that holds the
 * printer to the same bytes (tests/0011-toml-json.t). */
static int
print_jansson(const struct toml_value *root, int tagged)
{
	json_t *j = toml_json_tree(root, tagged);
	int r;

	if (!j)
		kom_die(KOM_EX_SOFTWARE, "cannot build json output");
	r = json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (r < 0 || putchar('\n') == EOF)
		return -1;
	return 0;
}

struct input {
	const char *data;
	size_t len;
	void *map;		/* when the file is mapped rather than read */
	struct buf buf;
};

/* A regular file is mapped with its pages populated up front: for a
 * large document that is several times faster than read(2) into a
 * growing buffer.  Pipes and the like are read. */
static int
map_file(int fd, struct input *in)
{
	struct stat st;
	void *m;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uintmax_t)st.st_size > TOML_MAX_INPUT)
		return -1;
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	in->map = m;
	in->data = m;
	in->len = st.st_size;
	return 0;
}

static int
read_input(const char *path, struct input *in)
{
	int fd = STDIN_FILENO, r = 0;

	if (strcmp(path, "-") && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		kom_warne("%s", path);
		return -1;
	}
	if (map_file(fd, in) < 0) {
		r = file_read_fd(fd, &in->buf, TOML_MAX_INPUT);
		in->data = in->buf.s;
		in->len = in->buf.len;
	}
	if (r < 0) {
		if (errno == EFBIG)
			kom_warn("%s: larger than %u bytes", path, TOML_MAX_INPUT);
		else
			kom_warne("%s", path);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

static void
free_input(struct input *in)
{
	if (in->map)
		munmap(in->map, in->len);
	buf_free(&in->buf);
}

int
sync_toml_main(int argc, char **argv)
{
	struct input in = { NULL, 0, NULL, BUF_INIT };
	struct toml_error err;
	struct toml_value *root;
	const char *path = "-", *name;
	int c, tagged = 0, quiet = 0, jansson = 0, r;

	optind = 1;
	while ((c = getopt(argc, argv, "hJqt")) != -1) {
		switch (c) {
		case 't':
			tagged = 1;
			break;
		case 'J':
			jansson = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			puts(usage);
			return kom_close_stdout(KOM_EX_OK);
		default:
			kom_die(KOM_EX_USAGE, "%s", usage);
		}
	}
	if (argc - optind > 1)
		kom_die(KOM_EX_USAGE, "%s", usage);
	if (argc - optind == 1)
		path = argv[optind];
	name = strcmp(path, "-") ? path : "<stdin>";
	if (read_input(path, &in) < 0)
		return KOM_EX_IOERR;
	root = toml_parse(in.data, in.len, &err);
	free_input(&in);
	if (!root) {
		kom_warn("%s:%d:%d: %s", name, err.line, err.col, err.msg);
		return KOM_EX_DATAERR;
	}
	r = 0;
	if (!quiet)
		r = jansson ? print_jansson(root, tagged) :
		    print_json(root, tagged);
	if (r < 0) {
		toml_free(root);
		kom_warne("write error");
		return KOM_EX_IOERR;
	}
	toml_free(root);
	return kom_close_stdout(KOM_EX_OK);
}
