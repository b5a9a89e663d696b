// Page-level helpers shared by the ivfflat callbacks: page initialisation and checks, the
// meta page, reading the lists, appending rows, and writing a freshly built index.
#pragma once

#include "pg/ivfflat_page.hpp"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace ann::pg {

// What the meta page says, copied out so no buffer stays locked.
struct IvfflatMeta {
    int dimensions;
    int lists;
    BlockNumber list_pages;
    bool spherical;
};

// The lists as the list pages hold them, copied out (palloc'd in CurrentMemoryContext).
struct IvfflatLists {
    int count;
    float *centres;  // count x dimensions; null unless asked for
    BlockNumber *first_block;
    BlockNumber *insert_block;
    ItemPointerData *location;  // where each list tuple lives, to update its insert_block
};

void ivfflat_init_page(Page page, uint16 flags);

// Checks that a page read from an ivfflat index is one of ours, else ERROR (index corrupted).
// A walk over every page passes all-zero pages by instead (see hnsw_check_page).
void ivfflat_check_page(Relation index, Page page, BlockNumber block);

// Reads block 0; errors if it is not an ivfflat meta page of this format version.
IvfflatMeta ivfflat_read_meta(Relation index);

IvfflatLists ivfflat_read_lists(Relation index, const IvfflatMeta &meta, bool with_centres);
void ivfflat_free_lists(IvfflatLists &lists);

// What never changes after a build, kept per backend in the relcache entry (rd_amcache):
// every scan and insert ranks all centres, and reading them from the list pages each time
// would cost one buffer access per list page. A new relfilenode (REINDEX, TRUNCATE) resets
// the relcache entry and so the cache. The pointer stays valid until the next relcache
// invalidation is processed, which only happens while acquiring a lock: use it and copy out
// what must outlive that.
struct IvfflatCentres {
    IvfflatMeta meta;
    float *centres;  // lists x dimensions
    float *norms;    // squared norms of the centres, for choosing by L2 distance
    BlockNumber *first_block;
    ItemPointerData *location;
};

const IvfflatCentres *ivfflat_centres(Relation index);

// The insert page hint of the list tuple at `location`.
BlockNumber ivfflat_read_insert_block(Relation index, const ItemPointerData &location);

// Points a list's insert page hint (its list tuple at `location`) at `block`, WAL-logged:
// inserts move it to where a row went, VACUUM back to the first page with room. A hint set
// concurrently by the other only costs a later insert a few page reads.
void ivfflat_set_insert_block(Relation index, const ItemPointerData &location, BlockNumber block);

// Adds one row to a data page that has room (the caller WAL-logs the change).
void ivfflat_page_add_row(Page page, int dim, const float *vector, ItemPointer heap_tid);

// Writes a whole index into an empty fork, block after block: meta page, list pages from
// `centres`, then data pages. `rows_per_list[l]` rows of list l come from next_row(), list by
// list in list order; each list gets max(1, ceil(rows / rows per page)) pages. Pages of the
// main fork are WAL-logged at the end in bulk when the relation needs WAL; pages of the init
// fork one by one (unlogged relations skip GenericXLog, but their init fork must survive a
// crash and reach replicas).
struct IvfflatRowSource {
    void *context;
    // Fills `vector` (dim floats) and `heap_tid` with the next row.
    void (*next_row)(void *context, float *vector, ItemPointer heap_tid);
};

void ivfflat_write_index(Relation index, ForkNumber fork, const IvfflatMeta &meta, const float *centres,
                         const int64 *rows_per_list, const IvfflatRowSource &rows);

}  // namespace ann::pg
