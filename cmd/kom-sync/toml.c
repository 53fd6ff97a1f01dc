/*
 * kom-sync toml: decode one TOML document and print it as JSON, so that the
 * parser can be checked against the official toml-test suite and users can
 * see exactly what kom read.
 *
 *	kom-sync toml [-t] [file]
 *
 * Reads file (or stdin) as raw bytes and writes one JSON object on one
 * line.  -t uses toml-test's tagged encoding ({"type":..,"value":..} for
 * every scalar).  A hidden -q parses without printing, for benchmarks.
 * Invalid TOML: one "file:line:col: message" line on stderr, exit 65.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
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

static const char *
tagged_type(enum toml_type t)
{
	switch (t) {
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "bool";
	case TOML_DATETIME: return "datetime";
	case TOML_DATETIME_LOCAL: return "datetime-local";
	case TOML_DATE_LOCAL: return "date-local";
	case TOML_TIME_LOCAL: return "time-local";
	default: return "?";
	}
}

/* RFC 3339 spelling: 'T' between date and time, upper-case 'Z'.  The
 * parser keeps the text as written; only those two letters vary. */
static json_t *
datetime_string(const struct toml_value *v)
{
	char tmp[64];
	size_t n = v->u.str.len;

	if (n >= sizeof(tmp))
		return json_stringn(v->u.str.s, n);
	memcpy(tmp, v->u.str.s, n);
	if ((v->type == TOML_DATETIME || v->type == TOML_DATETIME_LOCAL) &&
	    n > 10)
		tmp[10] = 'T';
	if (n > 0 && tmp[n - 1] == 'z')
		tmp[n - 1] = 'Z';
	return json_stringn(tmp, n);
}

static const char *
float_text(double f, char *tmp, size_t sz)
{
	if (isnan(f))
		return "nan";
	if (isinf(f))
		return f < 0 ? "-inf" : "inf";
	snprintf(tmp, sz, "%.17g", f);
	return tmp;
}

static json_t *
scalar_text(const struct toml_value *v)
{
	char tmp[64];

	switch (v->type) {
	case TOML_STRING:
		return json_stringn(v->u.str.s, v->u.str.len);
	case TOML_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return json_string(tmp);
	case TOML_FLOAT:
		return json_string(float_text(v->u.f, tmp, sizeof(tmp)));
	case TOML_BOOL:
		return json_string(v->u.b ? "true" : "false");
	default:
		return datetime_string(v);
	}
}

/* Plain JSON: numbers and booleans as such.  JSON has no inf or nan, so
 * those floats are the strings "inf", "-inf" and "nan". */
static json_t *
scalar_plain(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_INTEGER:
		return json_integer(v->u.i);
	case TOML_FLOAT:
		if (isfinite(v->u.f))
			return json_real(v->u.f);
		return scalar_text(v);
	case TOML_BOOL:
		return json_boolean(v->u.b);
	default:
		return scalar_text(v);
	}
}

/* Recursion is bounded by the parser's TOML_MAX_DEPTH. */
static json_t *
to_json(const struct toml_value *v, int tagged)
{
	json_t *j;
	size_t i;

	if (v->type == TOML_TABLE) {
		j = json_object();
		for (i = 0; i < v->u.table.n; i++)
			json_object_setn_new_nocheck(j, v->u.table.kv[i].key,
			    v->u.table.kv[i].keylen,
			    to_json(v->u.table.kv[i].val, tagged));
		return j;
	}
	if (v->type == TOML_ARRAY) {
		j = json_array();
		for (i = 0; i < v->u.array.n; i++)
			json_array_append_new(j, to_json(v->u.array.v[i], tagged));
		return j;
	}
	if (!tagged)
		return scalar_plain(v);
	return json_pack("{s:s, s:o}", "type", tagged_type(v->type),
	    "value", scalar_text(v));
}

static int
print_json(const struct toml_value *root, int tagged)
{
	json_t *j = to_json(root, tagged);
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
	int c, tagged = 0, quiet = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "hqt")) != -1) {
		switch (c) {
		case 't':
			tagged = 1;
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
	if (!quiet && print_json(root, tagged) < 0) {
		toml_free(root);
		kom_warne("write error");
		return KOM_EX_IOERR;
	}
	toml_free(root);
	return kom_close_stdout(KOM_EX_OK);
}
