/*
 * composeimg: the images a compose file names, as compose would pull them
 * (kom-poll images; komodo-behaviour.md 5.6 and Komodo #921, images
 * written as ${VAR} that Komodo's update check misses).
 *
 * The YAML is read with libyaml's document loader (aliases are followed,
 * never expanded into copies), at most COMPOSEIMG_MAX_FILE bytes and
 * COMPOSEIMG_MAX_NODES nodes.  For each entry of the top-level
 * "services" mapping that has a scalar "image", the image is run through
 * compose's interpolation:
 *
 *	$$			a literal $
 *	$VAR, ${VAR}		the value, "" when unset
 *	${VAR:-default}		default when unset or empty
 *	${VAR-default}		default when unset
 *	${VAR:+alt} ${VAR+alt}	alt when set and non-empty / when set
 *	${VAR:?msg} ${VAR?msg}	an error when unset or empty / when unset
 *
 * (defaults may hold further ${...}).  Functions return 0, or -1 with a
 * message in err ("compose.yaml:4:12: ..." where the place is known);
 * nothing is printed.  Results belong to the caller (composeimg_free).
 */
#ifndef KOM_COMPOSEIMG_H
#define KOM_COMPOSEIMG_H

#include <stddef.h>

#include "buf.h"

#define COMPOSEIMG_MAX_FILE (1u << 20)
#define COMPOSEIMG_MAX_NODES 100000

/* The value of name (namelen bytes), or NULL when unset. */
typedef const char *(*composeimg_lookup)(void *ctx, const char *name,
    size_t namelen);

struct composeimg {
	char *service;
	char *image;		/* interpolated */
	char *raw;		/* as written */
	int line;		/* 1-based */
};

int composeimg_interp(const char *in, size_t len, composeimg_lookup fn,
    void *ctx, struct buf *out, struct buf *err);

/* The services with an image, in file order. */
int composeimg_parse(const char *name, const char *data, size_t len,
    composeimg_lookup fn, void *ctx, struct composeimg **out, size_t *n,
    struct buf *err);

void composeimg_free(struct composeimg *v, size_t n);

#endif
