// Reading pages without a buffer-table lookup where possible. A graph search touches
// thousands of pages per query, and looking each up in the shared buffer mapping table is a
// large part of its cost; this remembers, per backend, which buffer last held each block of
// the index (and the table) used last, and pins it through ReadRecentBuffer, which only
// re-checks the tag.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace ann::pg {

// Hints are kept for one index and one table at a time (a filtered scan reads both).
enum class HintedRelation { index, table };

// ReadBuffer(rel, block), faster when the block is still where it was last seen.
Buffer read_buffer_hinted(Relation rel, BlockNumber block, HintedRelation kind = HintedRelation::index);

// Reads the cache line at `address`, inside the buffer pool, and drops the value: the early
// read of a line about to be needed, where a prefetch instruction does not do (on the KVM
// guest measured, a table pass that prefetched every row ran no faster than one that did
// not, and with these reads in place of the prefetches it took half the time; for index
// pages the two measured alike). A guessed page may hold anything by now, but the pool is
// always mapped, so any address within it can be read.
inline void touch_buffer_line(const void *address)
{
    __asm__ volatile("" : : "r"(*static_cast<const volatile char *>(address)));
}

// Where the block was last seen, without pinning it: a guess, good for prefetching only (the
// buffer may hold another page by now). Starts loading that buffer's header and the page's
// header. Null when unknown.
Page prefetch_hinted_page(Relation rel, BlockNumber block, HintedRelation kind = HintedRelation::index);

}  // namespace ann::pg
