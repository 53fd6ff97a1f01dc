/*
 * spool: maildir-style queues between kom programs (kom-spool(5)).
 *
 *	SPOOL/QUEUE/tmp		being written by a producer
 *	SPOOL/QUEUE/new		ready, oldest first (names sort by time)
 *	SPOOL/QUEUE/cur		claimed by a consumer that holds an flock on it
 *	SPOOL/QUEUE/failed	given up on, with NAME.reason beside it
 *
 * A producer writes tmp/NAME, fsyncs and renames it into new/.  A consumer
 * opens new/NAME, takes a non-blocking flock on it and only then renames it
 * into cur/, so two consumers never own the same entry, and an entry in
 * cur/ whose lock nobody holds belongs to a consumer that died: recovery
 * moves it back into new/.  Nothing is edited in place.
 *
 * Functions return 0 (or 1 where stated) on success and -1 with errno set,
 * printing nothing.  Names are "<unix-ms>.<pid>.<random>.json".
 */
#ifndef KOM_SPOOL_H
#define KOM_SPOOL_H

#include <stddef.h>

/* Make SPOOL/QUEUE/{tmp,new,cur,failed} as needed. */
int spool_init(const char *spool, const char *queue);

/*
 * Queue len bytes of data.  On success *name (if not NULL) gets the entry's
 * file name, which the caller frees.
 */
int spool_put(const char *spool, const char *queue, const void *data,
    size_t len, char **name);

struct spool_entry {
	int fd;		/* open on the claimed file, holding its flock */
	char *path;	/* SPOOL/QUEUE/cur/NAME */
	char *name;	/* NAME */
	char *spool, *queue;
};

/*
 * Claim the oldest entry of new/.  Returns 1 with *e filled, 0 when the
 * queue is empty, -1 on error.  Release it with spool_done or spool_fail.
 */
int spool_claim(const char *spool, const char *queue, struct spool_entry *e);

/*
 * The names in new/, oldest first (an absent queue is empty), for a
 * consumer that claims many: claiming each of them with
 * spool_claim_name() reads the directory once instead of once per claim.
 * Free them with spool_names_free().
 */
int spool_list(const char *spool, const char *queue, char ***names,
    size_t *n);
void spool_names_free(char **names, size_t n);
/* Claim new/NAME: 1 with *e filled, 0 when another consumer has it or it
 * is gone, as spool_claim(). */
int spool_claim_name(const char *spool, const char *queue, const char *name,
    struct spool_entry *e);

/* The entry was handled: delete it. */
int spool_done(struct spool_entry *e);

/* Put the entry back into new/ for a later try (e.g. a temporary failure). */
int spool_retry(struct spool_entry *e);

/* Give up: move it into failed/ and write failed/NAME.reason. */
int spool_fail(struct spool_entry *e, const char *reason);

/*
 * Move every entry of cur/ whose claimant died (no flock held) back into
 * new/.  Returns the number moved, or -1.
 */
int spool_recover(const char *spool, const char *queue);

#endif
