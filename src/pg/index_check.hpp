// ann_index_check(regclass): a structural check of an ann index. The SQL entry point
// (index_check.cpp) opens and locks the index and its table and hands them to the checker of
// the index's access method, which walks the index and raises ERRCODE_INDEX_CORRUPTED at the
// first damage it finds. A walk that finds none returns what it counted as (item, count)
// rows, so each access method reports its own figures through the same function.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
#include "storage/off.h"
#include "utils/rel.h"
}

namespace ann::pg {

constexpr int kIndexCheckMaxCounters = 16;

// What a clean check counted, in the order the rows are returned.
struct IndexCheckCounts {
    const char *items[kIndexCheckMaxCounters];
    int64 counts[kIndexCheckMaxCounters];
    int used;
};

inline void add_check_count(IndexCheckCounts *counts, const char *item, int64 count)
{
    Assert(counts->used < kIndexCheckMaxCounters);
    counts->items[counts->used] = item;
    counts->counts[counts->used] = count;
    counts->used++;
}

// Raises ERRCODE_INDEX_CORRUPTED naming the index and where the damage is (the offset is
// left out when it is InvalidOffsetNumber); `format` describes it as a sentence.
[[noreturn]] void report_index_corruption(Relation index, BlockNumber block, OffsetNumber offset,
                                          const char *format, ...) pg_attribute_printf(4, 5);

// Checkers, one per access method. Both relations are open under AccessShareLock, so
// inserts, scans and VACUUM may run meanwhile; a checker reports only what none of them
// can produce.
void hnsw_check_index(Relation heap, Relation index, IndexCheckCounts *counts);     // hnsw_check.cpp
void ivfflat_check_index(Relation heap, Relation index, IndexCheckCounts *counts);  // ivfflat_check.cpp

}  // namespace ann::pg
