// VACUUM for hnsw, in three passes over the element pages:
//   1. remove the heap TIDs of dead rows; elements left with none are dead;
//   2. repair: every live element linking to a dead one keeps its live links and fills the
//      dead ones' slots with the nearest live links of those dead elements (its two-hop
//      neighbourhood), and the entry point moves off a dead element;
//   3. free the dead elements' line pointers and vector chunks, and record the room in the
//      free space map, where inserts look first;
// and at cleanup, even when nothing was deleted, every live element unreachable from the
// entry point is linked in again (hnsw_reachability.cpp).
// Scans and inserts run concurrently: links are rewritten only when unchanged since they
// were read (as inserts do), and a link that still reaches a freed slot is skipped by
// readers, since the slot no longer holds an element.
#include "pg/hnsw.hpp"

#include <cstdlib>

#include "pg/guard.hpp"
#include "pg/hnsw_graph_reader.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
}

namespace ann::pg {

namespace {

struct Neighbour {
    uint64 id;
    float distance;
};

int compare_ids(const void *a, const void *b)
{
    const uint64 x = *static_cast<const uint64 *>(a);
    const uint64 y = *static_cast<const uint64 *>(b);
    return x < y ? -1 : (x > y ? 1 : 0);
}

class Vacuum {
public:
    Vacuum(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
        : info_(info), index_(info->index), stats_(stats)
    {
        meta_ = hnsw_read_meta(index_);
        dim_ = static_cast<int>(meta_.dimensions);
        metric_ = index_metric(index_);
        vector_chunks_ = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * MaxOffsetNumber));
    }

    void remove_heap_tids(IndexBulkDeleteCallback callback, void *callback_state);
    void repair();
    void free_dead();

private:
    Buffer read_locked(BlockNumber block, int mode)
    {
        Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, block, RBM_NORMAL, info_->strategy);
        LockBuffer(buffer, mode);
        hnsw_check_page(index_, BufferGetPage(buffer), block);
        return buffer;
    }
    // For walks over every page: InvalidBuffer for an all-zero page, which such a walk
    // passes by (see hnsw_check_page), else the page, checked and locked.
    Buffer read_walked(BlockNumber block, int mode)
    {
        Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, block, RBM_NORMAL, info_->strategy);
        LockBuffer(buffer, mode);
        if (PageIsNew(BufferGetPage(buffer))) {
            UnlockReleaseBuffer(buffer);
            return InvalidBuffer;
        }
        hnsw_check_page(index_, BufferGetPage(buffer), block);
        return buffer;
    }
    bool is_dead(uint64 id) const
    {
        return dead_count_ > 0 && bsearch(&id, dead_, dead_count_, sizeof(uint64), compare_ids) != nullptr;
    }
    void note_dead(uint64 id)
    {
        if (dead_count_ == dead_capacity_) {
            dead_capacity_ = Max(dead_capacity_ * 2, 1024u);
            dead_ = dead_ ? static_cast<uint64 *>(repalloc_huge(dead_, sizeof(uint64) * dead_capacity_))
                          : static_cast<uint64 *>(palloc_extended(sizeof(uint64) * dead_capacity_, MCXT_ALLOC_HUGE));
        }
        dead_[dead_count_++] = id;
    }
    void repair_element(uint64 id, HnswGraphReader &reader);
    // A candidate entry point: the first live element seen on the highest level.
    void note_live(ItemPointerData tid, int level)
    {
        if (level > highest_live_level_) {
            highest_live_level_ = level;
            highest_live_ = tid;
        }
    }
    void note_highest_live_anywhere();
    void note_emptied_chain(uint64 id)
    {
        if (emptied_chain_count_ == emptied_chain_capacity_) {
            emptied_chain_capacity_ = Max(emptied_chain_capacity_ * 2, 64u);
            emptied_chains_ = emptied_chains_ ? static_cast<uint64 *>(repalloc(emptied_chains_, sizeof(uint64) * emptied_chain_capacity_))
                                              : static_cast<uint64 *>(palloc(sizeof(uint64) * emptied_chain_capacity_));
        }
        emptied_chains_[emptied_chain_count_++] = id;
    }
    void drop_chain_if_empty(uint64 id);
    void free_chain(ItemPointerData link);

    IndexVacuumInfo *info_;
    Relation index_;
    IndexBulkDeleteResult *stats_;
    HnswMeta meta_;
    int dim_ = 0;
    IndexMetric metric_;
    uint64 *dead_ = nullptr;  // sorted after pass 1
    uint32 dead_count_ = 0;
    uint32 dead_capacity_ = 0;
    uint64 *emptied_chains_ = nullptr;  // elements with no inline rows but a chain
    uint32 emptied_chain_count_ = 0;
    uint32 emptied_chain_capacity_ = 0;
    ItemPointerData highest_live_;  // candidate entry point: a live element of the top level
    int highest_live_level_ = -1;
    ItemPointerData *vector_chunks_;  // first chunks of the vectors of one page's freed elements
};

// The heap TIDs a tuple holds: inline in an element, or in an overflow chunk.
struct HeapTidList {
    ItemPointerData *tids;
    uint16 *count;
};

HeapTidList heap_tid_list(char *tuple, const HnswElementLayout &layout)
{
    if (tuple[0] == kHnswElementTuple) {
        auto *element = reinterpret_cast<HnswElementTuple *>(tuple);
        return HeapTidList{layout.heap_tids(element), &element->heap_tid_count};
    }
    auto *chunk = reinterpret_cast<HnswHeapTidsTuple *>(tuple);
    return HeapTidList{chunk->heap_tids, &chunk->count};
}

void Vacuum::remove_heap_tids(IndexBulkDeleteCallback callback, void *callback_state)
{
    const BlockNumber blocks = RelationGetNumberOfBlocks(index_);
    ItemPointerData *kept = static_cast<ItemPointerData *>(palloc(kHnswMaxTupleSize));
    const HnswElementLayout layout = meta_.layout();
    ItemPointerSetInvalid(&highest_live_);
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        vacuum_delay_point();
        Buffer buffer = read_walked(block, BUFFER_LOCK_EXCLUSIVE);
        if (buffer == InvalidBuffer)
            continue;
        GenericXLogState *state = nullptr;
        Page page = BufferGetPage(buffer);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            if (!ItemIdIsNormal(PageGetItemId(page, offset)) ||
                *PageGetItem(page, PageGetItemId(page, offset)) == kHnswVectorChunkTuple)
                continue;
            HeapTidList list = heap_tid_list(PageGetItem(page, PageGetItemId(page, offset)), layout);
            uint16 kept_count = 0;
            for (uint16 i = 0; i < *list.count; i++) {
                if (callback(&list.tids[i], callback_state))
                    stats_->tuples_removed++;
                else
                    kept[kept_count++] = list.tids[i];
            }
            if (kept_count != *list.count) {
                if (state == nullptr) {
                    state = GenericXLogStart(index_);
                    page = GenericXLogRegisterBuffer(state, buffer, 0);
                }
                // Compacted in place: the tuple keeps its size, so links keep their offsets.
                list = heap_tid_list(PageGetItem(page, PageGetItemId(page, offset)), layout);
                memcpy(list.tids, kept, sizeof(ItemPointerData) * kept_count);
                *list.count = kept_count;
            }
            stats_->num_index_tuples += kept_count;

            auto *element = reinterpret_cast<HnswElementTuple *>(PageGetItem(page, PageGetItemId(page, offset)));
            if (element->kind != kHnswElementTuple)
                continue;
            ItemPointerData tid;
            ItemPointerSet(&tid, block, offset);
            // One with rows in its chain only may turn out dead below: not an entry point.
            if (HnswGraphReader::element_is_dead(element))
                note_dead(hnsw_node_id(&tid));
            else if (element->heap_tid_count == 0)
                note_emptied_chain(hnsw_node_id(&tid));
            else
                note_live(tid, element->level);
        }
        if (state != nullptr)
            GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
    }
    pfree(kept);
    for (uint32 i = 0; i < emptied_chain_count_; i++)
        drop_chain_if_empty(emptied_chains_[i]);
    if (dead_count_ > 0)
        qsort(dead_, dead_count_, sizeof(uint64), compare_ids);
}

// An element whose inline rows are gone and whose overflow chain holds none either is dead
// once the chain is cut off; the chain's tuples are freed then. Only builds write chains and only VACUUM
// changes them, so an empty chain stays empty; a scan still following it finds the slots
// unused or reused by an element, and stops.
void Vacuum::drop_chain_if_empty(uint64 id)
{
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    ItemPointerData chain;
    ItemPointerSetInvalid(&chain);
    Buffer buffer = read_locked(ItemPointerGetBlockNumber(&tid), BUFFER_LOCK_SHARE);
    const HnswElementTuple *element = HnswGraphReader::element_at(BufferGetPage(buffer), ItemPointerGetOffsetNumber(&tid));
    const int level = element != nullptr ? element->level : -1;
    const bool rows_inline = element != nullptr && element->heap_tid_count > 0;
    if (element != nullptr && element->heap_tid_count == 0)
        chain = element->more_heap_tids;
    UnlockReleaseBuffer(buffer);

    // Every chunk must be empty; a chain longer than the index has slots loops (damage that
    // ann_index_check reports) and is left alone.
    const uint64 max_steps = static_cast<uint64>(RelationGetNumberOfBlocks(index_)) * MaxOffsetNumber;
    bool empty = ItemPointerIsValid(&chain);
    uint64 steps = 0;
    for (ItemPointerData link = chain; empty && ItemPointerIsValid(&link); steps++) {
        buffer = read_locked(ItemPointerGetBlockNumber(&link), BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&link);
        const HnswHeapTidsTuple *chunk = nullptr;
        if (offset <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, offset)))
            chunk = reinterpret_cast<const HnswHeapTidsTuple *>(PageGetItem(page, PageGetItemId(page, offset)));
        empty = chunk != nullptr && chunk->kind == kHnswHeapTidsTuple && chunk->count == 0 && steps < max_steps;
        if (empty)
            link = chunk->next;
        UnlockReleaseBuffer(buffer);
    }
    if (!empty) {
        // Live through its chain (or rows inline again): the entry point may move to it.
        if (rows_inline || ItemPointerIsValid(&chain))
            note_live(tid, level);
        return;
    }

    buffer = read_locked(ItemPointerGetBlockNumber(&tid), BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buffer);
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&tid);
    HnswElementTuple *current = HnswGraphReader::element_at(page, offset);
    const bool unchanged = current != nullptr && current->heap_tid_count == 0 && ItemPointerEquals(&current->more_heap_tids, &chain);
    if (unchanged) {
        GenericXLogState *state = GenericXLogStart(index_);
        Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
        ItemPointerSetInvalid(&HnswGraphReader::element_at(logged, offset)->more_heap_tids);
        GenericXLogFinish(state);
    }
    UnlockReleaseBuffer(buffer);
    if (!unchanged)
        return;
    note_dead(id);
    free_chain(chain);
}

// Frees the tuples of an overflow or vector chunk chain that nothing references any more.
// A reader still following it finds the slots unused or reused and gives up (chunks of
// another kind, or counts that do not add up).
void Vacuum::free_chain(ItemPointerData link)
{
    while (ItemPointerIsValid(&link)) {
        const BlockNumber block = ItemPointerGetBlockNumber(&link);
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&link);
        Buffer buffer = read_locked(block, BUFFER_LOCK_EXCLUSIVE);
        const char *tuple = PageGetItem(BufferGetPage(buffer), PageGetItemId(BufferGetPage(buffer), offset));
        // Both chunk kinds keep their successor at the same offset.
        static_assert(offsetof(HnswHeapTidsTuple, next) == offsetof(HnswVectorChunkTuple, next));
        link = reinterpret_cast<const HnswHeapTidsTuple *>(tuple)->next;
        GenericXLogState *state = GenericXLogStart(index_);
        Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
        PageIndexTupleDeleteNoCompact(logged, offset);
        const Size free_space = PageGetExactFreeSpace(logged);
        GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
        RecordPageWithFreeSpace(index_, block, free_space);
    }
}

// Re-selects the links of one live element on each level where it reaches a dead element.
void Vacuum::repair_element(uint64 id, HnswGraphReader &reader)
{
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    const BlockNumber block = ItemPointerGetBlockNumber(&tid);
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&tid);
    const int max_links = 2 * meta_.m;
    float *base = static_cast<float *>(palloc(sizeof(float) * dim_));
    float *scratch = static_cast<float *>(palloc(sizeof(float) * dim_));
    ItemPointerData *old_links = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * max_links));
    ItemPointerData *hop = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * max_links));
    Neighbour *candidates = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * max_links * (max_links + 1)));

    if (!reader.read_vector(id, base))
        return;
    Buffer buffer = read_locked(block, BUFFER_LOCK_SHARE);
    HnswElementTuple *element = HnswGraphReader::element_at(BufferGetPage(buffer), offset);
    const int level = element ? element->level : -1;
    UnlockReleaseBuffer(buffer);

    for (int l = 0; l <= level; l++) {
        const int capacity = hnsw_level_capacity(meta_.m, l);
        const int first_slot = hnsw_level_link_offset(meta_.m, l);
        buffer = read_locked(block, BUFFER_LOCK_SHARE);
        element = HnswGraphReader::element_at(BufferGetPage(buffer), offset);
        if (element == nullptr) {
            UnlockReleaseBuffer(buffer);
            return;
        }
        memcpy(old_links, reader.layout().links(element) + first_slot, sizeof(ItemPointerData) * capacity);
        UnlockReleaseBuffer(buffer);

        bool reaches_dead = false;
        for (int i = 0; i < capacity && ItemPointerIsValid(&old_links[i]); i++)
            reaches_dead = reaches_dead || is_dead(hnsw_node_id(&old_links[i]));
        if (!reaches_dead)
            continue;

        // Live links stay: dropping one could leave its element with no way in. The slots of
        // dead links go to the nearest live links of those dead elements (two hops away).
        uint32 live = 0;
        for (int i = 0; i < capacity && ItemPointerIsValid(&old_links[i]); i++) {
            const uint64 link = hnsw_node_id(&old_links[i]);
            if (!is_dead(link))
                candidates[live++] = Neighbour{link, 0.0f};
        }
        uint32 count = live;
        auto consider = [&](uint64 candidate) {
            if (candidate == id || is_dead(candidate))
                return;
            for (uint32 i = 0; i < count; i++) {
                if (candidates[i].id == candidate)
                    return;
            }
            if (reader.read_vector(candidate, scratch))
                candidates[count++] = Neighbour{candidate, metric_distance(metric_, base, scratch, dim_)};
        };
        for (int i = 0; i < capacity && ItemPointerIsValid(&old_links[i]); i++) {
            if (!is_dead(hnsw_node_id(&old_links[i])))
                continue;
            ItemPointerData dead_tid = old_links[i];
            buffer = read_locked(ItemPointerGetBlockNumber(&dead_tid), BUFFER_LOCK_SHARE);
            HnswElementTuple *dead = HnswGraphReader::element_at(BufferGetPage(buffer), ItemPointerGetOffsetNumber(&dead_tid));
            int hop_count = 0;
            if (dead != nullptr && dead->level >= l) {
                const ItemPointerData *slots = reader.layout().links(dead) + first_slot;
                while (hop_count < capacity && ItemPointerIsValid(&slots[hop_count])) {
                    hop[hop_count] = slots[hop_count];
                    hop_count++;
                }
            }
            UnlockReleaseBuffer(buffer);
            for (int j = 0; j < hop_count; j++)
                consider(hnsw_node_id(&hop[j]));
        }
        // Two-hop candidates nearest first, after the live links.
        for (uint32 i = live + 1; i < count; i++) {
            const Neighbour moving = candidates[i];
            uint32 at = i;
            while (at > live && candidates[at - 1].distance > moving.distance) {
                candidates[at] = candidates[at - 1];
                at--;
            }
            candidates[at] = moving;
        }
        const uint32 kept = Min(count, static_cast<uint32>(capacity));

        buffer = read_locked(block, BUFFER_LOCK_EXCLUSIVE);
        element = HnswGraphReader::element_at(BufferGetPage(buffer), offset);
        // Rewritten only if nobody changed the list meanwhile; an insert that did has
        // already chosen among live elements (it never links dead ones).
        if (element != nullptr &&
            memcmp(reader.layout().links(element) + first_slot, old_links, sizeof(ItemPointerData) * capacity) == 0) {
            GenericXLogState *state = GenericXLogStart(index_);
            Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
            ItemPointerData *slots = reader.layout().links(HnswGraphReader::element_at(logged, offset)) + first_slot;
            for (int i = 0; i < capacity; i++) {
                if (static_cast<uint32>(i) < kept)
                    hnsw_node_tid(candidates[i].id, &slots[i]);
                else
                    ItemPointerSetInvalid(&slots[i]);
            }
            GenericXLogFinish(state);
        }
        UnlockReleaseBuffer(buffer);
    }
}

void Vacuum::repair()
{
    if (dead_count_ == 0)
        return;
    HnswGraphReader reader(index_, metric_, dim_, meta_.m);
    const BlockNumber blocks = RelationGetNumberOfBlocks(index_);
    MemoryContext element_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum repair", ALLOCSET_DEFAULT_SIZES);
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        vacuum_delay_point();
        Buffer buffer = read_walked(block, BUFFER_LOCK_SHARE);
        if (buffer == InvalidBuffer)
            continue;
        Page page = BufferGetPage(buffer);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        // Live elements of this page that link to a dead one, found under one lock.
        uint64 needs_repair[MaxOffsetNumber];
        int repair_count = 0;
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
            if (element == nullptr || HnswGraphReader::element_is_dead(element))
                continue;
            const ItemPointerData *links = reader.layout().links(element);
            bool reaches_dead = false;
            for (int i = 0; i < hnsw_total_link_slots(meta_.m, element->level) && !reaches_dead; i++)
                reaches_dead = ItemPointerIsValid(&links[i]) && is_dead(hnsw_node_id(&links[i]));
            if (reaches_dead) {
                ItemPointerData tid;
                ItemPointerSet(&tid, block, offset);
                needs_repair[repair_count++] = hnsw_node_id(&tid);
            }
        }
        UnlockReleaseBuffer(buffer);
        for (int i = 0; i < repair_count; i++) {
            MemoryContext old = MemoryContextSwitchTo(element_context);
            repair_element(needs_repair[i], reader);
            MemoryContextSwitchTo(old);
            MemoryContextReset(element_context);
        }
    }
    reader.release();
    MemoryContextDelete(element_context);

    // Move the entry point off a dead element, with inserts held off.
    LockPage(index_, kHnswMetaBlock, ExclusiveLock);
    const HnswMeta meta = hnsw_read_meta(index_);
    if (ItemPointerIsValid(&meta.entry_point) && is_dead(hnsw_node_id(&meta.entry_point))) {
        if (!ItemPointerIsValid(&highest_live_))
            note_highest_live_anywhere();
        ItemPointerData entry = highest_live_;
        hnsw_update_meta(index_, 0, &entry, highest_live_level_, true, InvalidBlockNumber);
    }
    UnlockPage(index_, kHnswMetaBlock, ExclusiveLock);
}

// Pass 1 saw no live element, but an insert may have added one behind it (to a page it had
// passed, or a new one) while every other row was deleted: with inserts held off, every page
// is read again for one, so that the index is not taken for empty while it holds rows.
void Vacuum::note_highest_live_anywhere()
{
    const BlockNumber blocks = RelationGetNumberOfBlocks(index_);
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        Buffer buffer = read_walked(block, BUFFER_LOCK_SHARE);
        if (buffer == InvalidBuffer)
            continue;
        Page page = BufferGetPage(buffer);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            const HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
            ItemPointerData tid;
            ItemPointerSet(&tid, block, offset);
            if (element != nullptr && !HnswGraphReader::element_is_dead(element) && !is_dead(hnsw_node_id(&tid)))
                note_live(tid, element->level);
        }
        UnlockReleaseBuffer(buffer);
    }
}

void Vacuum::free_dead()
{
    const HnswElementLayout layout = meta_.layout();
    uint32 next = 0;
    uint32 freed = 0;
    while (next < dead_count_) {
        vacuum_delay_point();
        const BlockNumber block = static_cast<BlockNumber>(dead_[next] >> 16);
        Buffer buffer = read_locked(block, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState *state = GenericXLogStart(index_);
        Page page = GenericXLogRegisterBuffer(state, buffer, 0);
        uint32 end = next;
        while (end < dead_count_ && static_cast<BlockNumber>(dead_[end] >> 16) == block)
            end++;
        int chunked_count = 0;
        for (uint32 i = next; i < end; i++) {
            const OffsetNumber offset = static_cast<OffsetNumber>(dead_[i] & 0xFFFF);
            HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
            // Still dead: an insert cannot revive an element (it adds copies only to live ones).
            if (element != nullptr && HnswGraphReader::element_is_dead(element)) {
                if (!layout.vector_inline())
                    vector_chunks_[chunked_count++] = *layout.vector_chunk(element);
                PageIndexTupleDeleteNoCompact(page, offset);
                freed++;
            }
        }
        const Size free_space = PageGetExactFreeSpace(page);
        GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
        RecordPageWithFreeSpace(index_, block, free_space);
        // The element goes first: once it is gone, nothing new can read its chunks' TIDs.
        for (int i = 0; i < chunked_count; i++)
            free_chain(vector_chunks_[i]);
        next = end;
    }
    // After the slots are free: a session that cached a vector before this empties its cache
    // at its next scan (hnsw_vector_cache.hpp).
    if (freed > 0)
        hnsw_advance_freed_generation(index_);
    if (dead_count_ > 0)
        IndexFreeSpaceMapVacuum(index_);
}

IndexBulkDeleteResult *bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                   IndexBulkDeleteCallback callback, void *callback_state)
{
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
    else
        stats->num_index_tuples = 0;
    Vacuum vacuum(info, stats);
    vacuum.remove_heap_tids(callback, callback_state);
    vacuum.repair();
    vacuum.free_dead();
    return stats;
}

IndexBulkDeleteResult *vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
    if (info->analyze_only)
        return stats;
    if (stats == nullptr) {
        // No bulk delete ran (nothing to remove): only the counts are wanted.
        stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
        stats->num_index_tuples = info->num_heap_tuples;
        stats->estimated_count = info->estimated_count;
    }
    hnsw_link_unreachable(info->index, info->strategy);
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace

IndexBulkDeleteResult *hnsw_bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
                                        IndexBulkDeleteCallback callback, void *callback_state)
{
    return guarded_call("hnsw vacuum", [&]() { return bulk_delete(info, stats, callback, callback_state); });
}

IndexBulkDeleteResult *hnsw_vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
    return guarded_call("hnsw vacuum", [&]() { return vacuum_cleanup(info, stats); });
}

}  // namespace ann::pg
