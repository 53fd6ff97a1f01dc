/*
 * arena: jansson's allocator in kom-sync.  The records of a load are a
 * few million small jansson values that live until the process ends;
 * malloc and free of each was half of validate (bench/RESULTS.md, sync).
 * Here they come from 1 MiB blocks in size classes of 8 bytes, with a free
 * list per class and thread (a freed value is reused as with malloc), and
 * arena_end() gives the blocks back at once instead of freeing every
 * value: nothing is left allocated at exit (valgrind, LeakSanitizer), and
 * an ASan build poisons what is free so that a use after free is still
 * found.
 *
 * Contract: arena_start() before the first jansson call, arena_end()
 * after the last; in between, memory jansson hands out (json_dumps) must
 * go back through jansson's free function, never free(): the shared code
 * kom-sync runs uses jsonl_dumps() (a malloc'd copy) for that reason.
 * Thread-safe: each thread allocates from its own blocks.
 */
#ifndef KOM_SYNC_ARENA_H
#define KOM_SYNC_ARENA_H

void arena_start(void);
/* Every block back; no jansson value may be used afterwards. */
void arena_end(void);

#endif
