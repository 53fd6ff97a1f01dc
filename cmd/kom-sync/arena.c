/*
 * arena: jansson's allocator in kom-sync; see arena.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "arena.h"
#include "util.h"
#include "banned.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define BLOCK		(1u << 20)
#define MAXSMALL	1024		/* larger: malloc, kept on a list */
#define NCLASS		(MAXSMALL / 8 + 1)
#define LARGE		0		/* the class of a large allocation */

/*
 * A small allocation is an 8-byte class (size / 8) and the value, 8-byte
 * aligned (all jansson needs); a large one has its list links before the
 * class.  Freed small ones hold the next free one of their class in their
 * first 8 bytes (the rest is poisoned under ASan).
 */
struct large {
	struct large *prev, *next;
	size_t size;
	size_t cls;		/* LARGE, just before the value */
};

struct block {
	struct block *next;
	size_t pad;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static struct large *larges;

static _Thread_local struct {
	char *cur, *end;
	void *free[NCLASS];
} t;

static void *
new_block(void)
{
	struct block *b = xmalloc(BLOCK);

	pthread_mutex_lock(&mu);
	b->next = blocks;
	blocks = b;
	pthread_mutex_unlock(&mu);
	t.cur = (char *)(b + 1);
	t.end = (char *)b + BLOCK;
	POISON(t.cur, (size_t)(t.end - t.cur));
	return t.cur;
}

static void *
large_alloc(size_t n)
{
	struct large *l;

	if (n > SIZE_MAX - sizeof(*l))
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	l = xmalloc(sizeof(*l) + n);
	l->size = n;
	l->cls = LARGE;
	pthread_mutex_lock(&mu);
	l->prev = NULL;
	l->next = larges;
	if (larges)
		larges->prev = l;
	larges = l;
	pthread_mutex_unlock(&mu);
	return l + 1;
}

static void *
arena_malloc(size_t n)
{
	size_t cls = n ? (n + 7) / 8 : 1, need = 8 + cls * 8;
	char *p;

	if (n > MAXSMALL)
		return large_alloc(n);
	if ((p = t.free[cls])) {
		UNPOISON(p - 8, need);
		t.free[cls] = *(void **)p;
		return p;
	}
	if ((size_t)(t.end - t.cur) < need)
		new_block();
	p = t.cur;
	t.cur += need;
	UNPOISON(p, need);
	*(size_t *)p = cls;
	return p + 8;
}

static void
arena_free(void *ptr)
{
	char *p = ptr;
	size_t cls;

	if (!p)
		return;
	cls = *(size_t *)(p - 8);
	if (cls == LARGE) {
		struct large *l = (struct large *)p - 1;

		pthread_mutex_lock(&mu);
		if (l->prev)
			l->prev->next = l->next;
		else
			larges = l->next;
		if (l->next)
			l->next->prev = l->prev;
		pthread_mutex_unlock(&mu);
		free(l);
		return;
	}
	*(void **)p = t.free[cls];
	t.free[cls] = p;
	if (cls > 1)
		POISON(p + 8, cls * 8 - 8);
}

void
arena_start(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

void
arena_end(void)
{
	struct block *b, *nb;
	struct large *l, *nl;

	pthread_mutex_lock(&mu);
	for (b = blocks; b; b = nb) {
		nb = b->next;
		UNPOISON(b, BLOCK);
		free(b);
	}
	for (l = larges; l; l = nl) {
		nl = l->next;
		free(l);
	}
	blocks = NULL;
	larges = NULL;
	pthread_mutex_unlock(&mu);
	t.cur = t.end = NULL;
}
