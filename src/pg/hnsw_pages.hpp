// Page-level helpers shared by the hnsw callbacks: page initialisation, the meta page, and
// adding an element page. Every change made here is WAL-logged with GenericXLog.
#pragma once

#include "pg/hnsw_page.hpp"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace ann::pg {

// What the meta page says, copied out so no buffer stays locked.
struct HnswMeta {
    uint32 dimensions;  // 0 until the first vector arrives (an index built on an empty table)
    int m;
    int ef_construction;
    ItemPointerData entry_point;
    int entry_level;  // -1: empty graph
    BlockNumber insert_block;
    uint32 freed_generation;
    uint32 build_id;

    HnswElementLayout layout() const { return HnswElementLayout::for_index(static_cast<int>(dimensions), m); }
};

void hnsw_init_page(Page page, uint16 flags);

// The vector storage the meta page of an index records: HnswElementLayout::for_index's
// choice, inline while the dimensions are unknown.
HnswVectorStorage hnsw_vector_storage(uint32 dimensions, int m);

// Reads block 0; errors if it is not an hnsw meta page of this format version, or if its
// vector storage is not the one HnswElementLayout::for_index picks: readers that know only
// the dimensions and m rely on that.
HnswMeta hnsw_read_meta(Relation index);

// Writes a fresh meta page as block 0 of `fork` (the relation fork must be empty).
void hnsw_create_meta_page(Relation index, ForkNumber fork, const HnswMeta &meta);

// Under an exclusive lock on the meta page: sets the dimensions (and with them the vector
// storage) if still unknown, and the
// entry point if `level` is above the current one (or `force`). Returns the dimensions now
// stored.
uint32 hnsw_update_meta(Relation index, uint32 dimensions, const ItemPointerData *entry_point,
                        int level, bool force_entry, BlockNumber insert_block);

// Moves the meta page's freed generation on, once VACUUM has freed elements.
void hnsw_advance_freed_generation(Relation index);

// Checks that a page read from an hnsw index is one of ours, else ERROR (index corrupted).
// An all-zero page is not, but is no damage either when a walk over every page meets it: a
// crash after an insert extended the file and before the record that set the page up
// reached the WAL leaves one, which no link or chain points into. Such walks pass it by
// (PageIsNew), as btree's do.
void hnsw_check_page(Relation index, Page page, BlockNumber block);

}  // namespace ann::pg
