/*
 * fuzz/extra_args: libFuzzer target for shellwords and the docker run
 * flag parser behind a deployment's command and extra_args.
 *
 *	make tests/fuzz/extra_args
 *	sh tests/fuzz/run 300 tests/fuzz/extra_args
 *
 * The input is split at NUL bytes into extra_args entries; the first
 * entry is also split as a command.  Everything must either succeed or
 * fail with a message, and never leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runflags.h"
#include "shellwords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[512], **argv;
	const char *args[64];
	size_t n = 0, argc, i;
	json_t *body;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i <= size && n < 64; i++) {
		if (i == 0 || s[i - 1] == '\0')
			args[n++] = s + i;
	}
	if (shellwords_split(s, &argv, &argc, err, sizeof(err)) == 0) {
		for (i = 0; i < argc; i++)
			if (argv[i] == NULL)
				abort();
		if (argv[argc] != NULL)
			abort();
		shellwords_free(argv);
	} else if (err[0] == '\0') {
		abort();
	}
	body = json_object();
	err[0] = '\0';
	if (runflags_apply(body, args, n, err, sizeof(err)) < 0 &&
	    err[0] == '\0')
		abort();
	json_decref(body);
	free(s);
	return 0;
}
