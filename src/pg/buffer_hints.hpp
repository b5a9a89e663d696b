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

// Where the block was last seen, without pinning it: a guess, good for prefetching only (the
// buffer may hold another page by now). Starts loading that buffer's header and the page's
// header. Null when unknown.
Page prefetch_hinted_page(Relation rel, BlockNumber block, HintedRelation kind = HintedRelation::index);

}  // namespace ann::pg
