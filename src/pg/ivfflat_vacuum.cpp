// VACUUM for ivfflat: one pass over each list's chain removes the rows of dead heap tuples
// (the page's last row moves into each hole) and points the list's insert page back at the
// first page of its chain with room, so later inserts fill the freed space before the list
// grows. Pages are never freed: a list keeps its chain.
// Scans and inserts run concurrently: each page is changed under its exclusive lock, and
// scans copy what they need out under a share lock, so rows moving within a page are never
// seen half-moved.
#include "pg/ivfflat.hpp"

#include "pg/guard.hpp"
#include "pg/ivfflat_pages.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
}

namespace ann::pg {

namespace {

// Removes dead rows from one page; returns how many rows it keeps.
int vacuum_page(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
                void *callback_state, Buffer buffer, int dim, bool *dead)
{
    Page page = BufferGetPage(buffer);
    int rows = ivfflat_row_count(page, dim);
    int dead_count = 0;
    for (int row = 0; row < rows; row++) {
        dead[row] = callback(ivfflat_row_heap_tid(page, row), callback_state);
        dead_count += dead[row] ? 1 : 0;
    }
    if (dead_count == 0)
        return rows;

    GenericXLogState *state = GenericXLogStart(info->index);
    page = GenericXLogRegisterBuffer(state, buffer, 0);
    PageHeader header = reinterpret_cast<PageHeader>(page);
    for (int row = 0; row < rows;) {
        if (!dead[row]) {
            row++;
            continue;
        }
        const int last = rows - 1;
        if (row != last) {
            memcpy(ivfflat_row_vector(page, dim, row), ivfflat_row_vector(page, dim, last), sizeof(float) * dim);
            *ivfflat_row_heap_tid(page, row) = *ivfflat_row_heap_tid(page, last);
            dead[row] = dead[last];
        }
        header->pd_lower -= sizeof(float) * dim;
        header->pd_upper += sizeof(ItemPointerData);
        rows--;
    }
    GenericXLogFinish(state);
    stats->tuples_removed += dead_count;
    return rows;
}

IndexBulkDeleteResult *bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                   IndexBulkDeleteCallback callback, void *callback_state)
{
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
    Relation index = info->index;
    const IvfflatMeta meta = ivfflat_read_meta(index);
    IvfflatLists lists = ivfflat_read_lists(index, meta, false);
    bool *dead = static_cast<bool *>(palloc(sizeof(bool) * ivfflat_rows_per_page(meta.dimensions)));
    double kept = 0;

    for (int l = 0; l < lists.count; l++) {
        BlockNumber first_with_room = InvalidBlockNumber;
        for (BlockNumber block = lists.first_block[l]; block != InvalidBlockNumber;) {
            vacuum_delay_point();
            Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
            LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
            Page page = BufferGetPage(buffer);
            ivfflat_check_page(index, page, block);
            kept += vacuum_page(info, stats, callback, callback_state, buffer, meta.dimensions, dead);
            page = BufferGetPage(buffer);
            if (first_with_room == InvalidBlockNumber && ivfflat_page_has_room(page, meta.dimensions))
                first_with_room = block;
            const BlockNumber next = ivfflat_page_opaque(page)->next_block;
            UnlockReleaseBuffer(buffer);
            block = next;
        }
        if (first_with_room != InvalidBlockNumber && first_with_room < lists.insert_block[l])
            ivfflat_set_insert_block(index, lists.location[l], first_with_room);
    }
    pfree(dead);
    ivfflat_free_lists(lists);
    stats->num_index_tuples = kept;
    stats->num_pages = RelationGetNumberOfBlocks(index);
    return stats;
}

// Without a bulk delete (nothing was dead), counts the rows for the statistics.
IndexBulkDeleteResult *vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
    if (info->analyze_only || stats != nullptr)
        return stats;
    stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
    Relation index = info->index;
    const IvfflatMeta meta = ivfflat_read_meta(index);
    const BlockNumber blocks = RelationGetNumberOfBlocks(index);
    for (BlockNumber block = kIvfflatFirstListBlock + meta.list_pages; block < blocks; block++) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (!PageIsNew(page)) {
            ivfflat_check_page(index, page, block);
            stats->num_index_tuples += ivfflat_row_count(page, meta.dimensions);
        }
        UnlockReleaseBuffer(buffer);
    }
    stats->num_pages = blocks;
    return stats;
}

}  // namespace

IndexBulkDeleteResult *ivfflat_bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                           IndexBulkDeleteCallback callback, void *callback_state)
{
    return guarded_call("ivfflat vacuum", [&]() { return bulk_delete(info, stats, callback, callback_state); });
}

IndexBulkDeleteResult *ivfflat_vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
    return guarded_call("ivfflat vacuum", [&]() { return vacuum_cleanup(info, stats); });
}

}  // namespace ann::pg
