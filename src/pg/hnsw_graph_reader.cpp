#include "pg/hnsw_graph_reader.hpp"

#include <algorithm>

#include "core/distance.h"
#include "pg/buffer_hints.hpp"
#include "pg/hnsw.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
}

namespace ann::pg {

HnswElementTuple *HnswGraphReader::element_at(Page page, OffsetNumber offset)
{
    if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page))
        return nullptr;
    ItemId item = PageGetItemId(page, offset);
    if (!ItemIdIsNormal(item))
        return nullptr;
    auto *element = reinterpret_cast<HnswElementTuple *>(PageGetItem(page, item));
    return element->kind == kHnswElementTuple ? element : nullptr;
}

Page HnswGraphReader::pin_and_lock(BlockNumber block)
{
    if (pinned_ == InvalidBuffer || BufferGetBlockNumber(pinned_) != block) {
        if (pinned_ != InvalidBuffer)
            ReleaseBuffer(pinned_);
        pinned_ = InvalidBuffer;
        pinned_ = read_buffer_hinted(index_, block);
    }
    LockBuffer(pinned_, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(pinned_);
    // The header is read anyway; the special area at the page's end would cost another
    // cache miss per page, so the full check runs only when the header looks wrong.
    if (unlikely(reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - MAXALIGN(sizeof(HnswPageOpaque))))
        hnsw_check_page(index_, page, block);
    return page;
}

void HnswGraphReader::unlock()
{
    LockBuffer(pinned_, BUFFER_LOCK_UNLOCK);
}

void HnswGraphReader::release()
{
    if (pinned_ != InvalidBuffer)
        ReleaseBuffer(pinned_);
    pinned_ = InvalidBuffer;
    if (chunked_vector_ != nullptr)
        pfree(chunked_vector_);
    chunked_vector_ = nullptr;
    if (half_row_ != nullptr)
        pfree(half_row_);
    half_row_ = nullptr;
}

bool HnswGraphReader::locate_vector(Page page, OffsetNumber offset, VectorLocation *location)
{
    const HnswElementTuple *element = element_at(page, offset);
    if (element == nullptr)
        return false;
    if (layout_.vector_inline()) {
        location->values = layout_.vector(element);
        ItemPointerSetInvalid(&location->first_chunk);
    } else {
        location->values = nullptr;
        location->first_chunk = *layout_.vector_chunk(element);
    }
    return true;
}

// False when the chain is no vector of our dimensions: VACUUM freed the element and its
// chunks after the chunk TID was read, and the slots may hold anything by now.
bool HnswGraphReader::read_chunks(ItemPointerData chunk, float *out)
{
    const int dimensions = layout_.dimensions();
    int done = 0;
    while (done < dimensions && ItemPointerIsValid(&chunk)) {
        Page page = pin_and_lock(ItemPointerGetBlockNumber(&chunk));
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&chunk);
        const HnswVectorChunkTuple *tuple = nullptr;
        if (offset <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, offset)))
            tuple = reinterpret_cast<const HnswVectorChunkTuple *>(PageGetItem(page, PageGetItemId(page, offset)));
        const bool readable = tuple != nullptr && tuple->kind == kHnswVectorChunkTuple && tuple->count > 0 &&
                              tuple->count <= dimensions - done;
        if (readable) {
            memcpy(out + done, tuple->values, sizeof(float) * tuple->count);
            done += tuple->count;
            chunk = tuple->next;
        }
        unlock();
        if (!readable)
            return false;
    }
    return done == dimensions && !ItemPointerIsValid(&chunk);
}

// The distance a search ranks an inline vector by. True when that is the distance of its half
// row, which half_row_ then holds.
bool HnswGraphReader::rank_inline(const float *vector, const float *query, float *distance)
{
    const int dimensions = layout_.dimensions();
    if (half_row_ != nullptr && core::encode_half_row(vector, dimensions, half_row_)) {
        *distance = metric_half_distance(metric_, query, half_row_, dimensions);
        return true;
    }
    *distance = metric_distance(metric_, query, vector, dimensions);
    return false;
}

// An inline vector lies on the page, which must still be locked; a chunked one is read with
// no page locked (no cache keeps chunked vectors). False if the chunks are gone.
bool HnswGraphReader::distance_to(const VectorLocation &location, const float *query, float *distance)
{
    if (location.values != nullptr) {
        rank_inline(location.values, query, distance);
        return true;
    }
    if (!read_chunks(location.first_chunk, chunked_vector_))
        return false;
    *distance = metric_distance(metric_, query, chunked_vector_, layout_.dimensions());
    return true;
}

uint32 HnswGraphReader::read_links(uint64 id, int level, ItemPointerData *links)
{
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    Page page = pin_and_lock(ItemPointerGetBlockNumber(&tid));
    HnswElementTuple *element = element_at(page, ItemPointerGetOffsetNumber(&tid));
    uint32 count = 0;
    if (element != nullptr && level <= element->level) {
        const ItemPointerData *slots = layout_.links(element) + hnsw_level_link_offset(layout_.m(), level);
        const int capacity = hnsw_level_capacity(layout_.m(), level);
        for (int i = 0; i < capacity && ItemPointerIsValid(&slots[i]); i++)
            links[count++] = slots[i];
    }
    unlock();
    return count;
}

namespace {

// The most line pointers a page has room for, so that a guess never reads past the page.
constexpr OffsetNumber kMaxLinePointers = (BLCKSZ - SizeOfPageHeaderData) / sizeof(ItemIdData);

// The first of two prefetch rounds over elements: each one's buffer header and line pointer,
// on the page the hints say holds it. pages[i] is that guess, or null.
void prefetch_line_pointers(Relation index, const uint64 *ids, uint32 count, Page *pages)
{
    for (uint32 i = 0; i < count; i++) {
        pages[i] = prefetch_hinted_page(index, static_cast<BlockNumber>(ids[i] >> 16));
        if (pages[i] != nullptr)
            __builtin_prefetch(PageGetItemId(pages[i], static_cast<OffsetNumber>(ids[i] & 0xFFFF)));
    }
}

// Where element `id` starts on a guessed `page`, read unlocked: null when there is no page,
// or its line pointer is out of range or leaves no room for `bytes` on the page.
const char *guessed_element(Page page, uint64 id, Size bytes)
{
    const OffsetNumber offset = static_cast<OffsetNumber>(id & 0xFFFF);
    if (page == nullptr || offset < FirstOffsetNumber || offset > kMaxLinePointers)
        return nullptr;
    const ItemIdData item = *PageGetItemId(page, offset);
    const Size start = ItemIdGetOffset(&item);
    if (!ItemIdIsNormal(&item) || start + bytes > BLCKSZ)
        return nullptr;
    return static_cast<const char *>(page) + start;
}

}  // namespace

// Starts loading the pages, line pointers and inline vectors of elements about to be ranked,
// so their cache misses overlap instead of following one another. Reads nothing it relies
// on: a stale hint or a line pointer changing under us only wastes a prefetch.
void HnswGraphReader::prefetch_elements(const uint64 *ids, uint32 count)
{
    Page pages[2 * kHnswMaxM];
    prefetch_line_pointers(index_, ids, count, pages);
    if (!layout_.vector_inline())
        return;
    const Size vector_bytes = sizeof(float) * layout_.dimensions();
    for (uint32 i = 0; i < count; i++) {
        if (const char *element = guessed_element(pages[i], ids[i], kHnswElementHeaderSize + vector_bytes))
            core::prefetch_vector(element + kHnswElementHeaderSize, vector_bytes);
    }
}

void HnswGraphReader::prefetch_layer0_links(const uint64 *ids, uint32 count)
{
    constexpr uint32 kMaxElements = 16;
    Page pages[kMaxElements];
    count = Min(count, kMaxElements);
    prefetch_line_pointers(index_, ids, count, pages);
    const Size element_bytes = layout_.links_offset() + sizeof(ItemPointerData) * hnsw_level_capacity(layout_.m(), 0);
    for (uint32 i = 0; i < count; i++) {
        const char *element = guessed_element(pages[i], ids[i], element_bytes);
        if (element == nullptr)
            continue;
        __builtin_prefetch(element);
        for (Size at = layout_.links_offset(); at < element_bytes; at += 64)
            __builtin_prefetch(element + at);
        __builtin_prefetch(element + element_bytes - 1);
    }
}

// Offers the neighbours whose vectors the cache has: every line of all their half rows starts
// loading, then distances are computed in order. (The in-memory build loads its float
// vectors a few ahead instead; half rows are small enough for all of a node's neighbours to
// be in flight at once: measured 8% off a 10% filter's query, 11% off an unfiltered one,
// against two rows ahead.) Returns how many are left for the pages, kept in their order at
// the front of `ids`.
template <typename SearchLike>
uint32 HnswGraphReader::rank_cached(SearchLike &state, uint64 *ids, uint32 count, const float *query)
{
    const core::Half *slots[2 * kHnswMaxM];
    uint64 slot_ids[2 * kHnswMaxM];
    const Size row_bytes = sizeof(core::Half) * cache_->row_length;
    uint32 cached = 0;
    uint32 missing = 0;
    for (uint32 i = 0; i < count; i++) {
        const core::Half *slot = hnsw_cached_slot(cache_, ids[i]);
        if (slot == nullptr) {
            ids[missing++] = ids[i];
            continue;
        }
        core::prefetch_vector(slot, row_bytes);
        slots[cached] = slot;
        slot_ids[cached++] = ids[i];
    }
    for (uint32 i = 0; i < cached; i++) {
        if (hnsw_cached_vector_present(slots[i]))
            state.offer(slot_ids[i], metric_half_distance(metric_, query, slots[i], layout_.dimensions()));
        else
            ids[missing++] = slot_ids[i];
    }
    if (missing > 1)
        std::sort(ids, ids + missing);  // by page again
    return missing;
}

template <typename SearchLike>
void HnswGraphReader::expand(SearchLike &state, uint64 node, const float *query)
{
    ItemPointerData links[2 * kHnswMaxM];
    uint64 pending[2 * kHnswMaxM];
    uint64 chunked_ids[2 * kHnswMaxM];
    VectorLocation chunked[2 * kHnswMaxM];
    const uint32 link_count = read_links(node, state.level(), links);
    uint32 pending_count = 0;
    for (uint32 i = 0; i < link_count; i++) {
        const uint64 id = hnsw_node_id(&links[i]);
        if (state.mark_visited(id)) {
            // Insertion sort by id groups the neighbours by page.
            uint32 at = pending_count++;
            while (at > 0 && pending[at - 1] > id) {
                pending[at] = pending[at - 1];
                at--;
            }
            pending[at] = id;
        }
    }
    // The filter a filtered search checks may run another scan, which may empty the cache.
    if (cache_ != nullptr && cache_->epoch != cache_epoch_)
        cache_ = nullptr;
    if (cache_ != nullptr)
        pending_count = rank_cached(state, pending, pending_count, query);
    prefetch_elements(pending, pending_count);
    for (uint32 i = 0; i < pending_count;) {
        const BlockNumber block = static_cast<BlockNumber>(pending[i] >> 16);
        Page page = pin_and_lock(block);
        // Chunked vectors of this page's elements, ranked once the page is unlocked.
        uint32 chunked_count = 0;
        for (; i < pending_count && static_cast<BlockNumber>(pending[i] >> 16) == block; i++) {
            VectorLocation location;
            float distance;
            if (!locate_vector(page, static_cast<OffsetNumber>(pending[i] & 0xFFFF), &location))
                continue;
            if (location.values == nullptr) {
                chunked_ids[chunked_count] = pending[i];
                chunked[chunked_count++] = location;
            } else {
                const bool half = rank_inline(location.values, query, &distance);
                state.offer(pending[i], distance);
                if (half && cache_ != nullptr)
                    hnsw_cache_vector(cache_, pending[i], half_row_, PageGetMaxOffsetNumber(page));
            }
        }
        unlock();
        for (uint32 j = 0; j < chunked_count; j++) {
            float distance;
            if (distance_to(chunked[j], query, &distance))
                state.offer(chunked_ids[j], distance);
        }
    }
}

template void HnswGraphReader::expand(core::ScanFilteredSearch &, uint64, const float *);

void HnswGraphReader::run(core::ScanSearchState &state, const float *query)
{
    uint64 node;
    while (state.pop_candidate(&node)) {
        CHECK_FOR_INTERRUPTS();
        uint64 next;
        if (state.peek_candidate(&next)) {
            Page page = prefetch_hinted_page(index_, static_cast<BlockNumber>(next >> 16));
            if (page != nullptr)
                __builtin_prefetch(PageGetItemId(page, static_cast<OffsetNumber>(next & 0xFFFF)));
        }
        expand(state, node, query);
    }
}

bool HnswGraphReader::search(core::ScanSearchState &state, const float *query, uint32 ef, int wide_level,
                             const HnswMeta &meta_read)
{
    // A scan reads the meta page without holding it: VACUUM may move the entry point and
    // free the old entry's element before the search gets to it. The meta page then names
    // the new entry.
    constexpr int kEntryReads = 3;
    HnswMeta meta = meta_read;
    float distance = 0.0f;
    for (int read = 1;; read++) {
        if (!ItemPointerIsValid(&meta.entry_point))
            return false;
        Page page = pin_and_lock(ItemPointerGetBlockNumber(&meta.entry_point));
        VectorLocation location;
        bool found = locate_vector(page, ItemPointerGetOffsetNumber(&meta.entry_point), &location);
        if (found && location.values != nullptr)
            distance_to(location, query, &distance);
        unlock();
        if (found && location.values == nullptr)
            found = distance_to(location, query, &distance);
        if (found)
            break;
        if (read == kEntryReads)
            return false;
        meta = hnsw_read_meta(index_);
    }
    const uint64 entry = hnsw_node_id(&meta.entry_point);
    if (state.start(entry, distance, meta.entry_level, Min(wide_level, meta.entry_level), ef) != core::HnswStatus::ok)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw search")));
    run(state, query);
    return true;
}

bool HnswGraphReader::read_vector(uint64 id, float *out, ItemPointerData *first_chunk)
{
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    Page page = pin_and_lock(ItemPointerGetBlockNumber(&tid));
    const HnswElementTuple *element = element_at(page, ItemPointerGetOffsetNumber(&tid));
    const bool live = element != nullptr && !element_is_dead(element);
    ItemPointerData chunk;
    ItemPointerSetInvalid(&chunk);
    if (live && layout_.vector_inline())
        memcpy(out, layout_.vector(element), sizeof(float) * layout_.dimensions());
    else if (live)
        chunk = *layout_.vector_chunk(element);
    unlock();
    if (first_chunk != nullptr)
        *first_chunk = chunk;
    return live && (layout_.vector_inline() || read_chunks(chunk, out));
}

uint32 HnswGraphReader::read_heap_tids(uint64 id, ItemPointerData **out, uint32 count, uint32 *capacity,
                                       const float *query, float ranked_distance, float *distance)
{
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    if (distance != nullptr)
        *distance = ranked_distance;
    bool first = true;
    while (ItemPointerIsValid(&tid)) {
        Page page = pin_and_lock(ItemPointerGetBlockNumber(&tid));
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&tid);
        const ItemPointerData *heap_tids = nullptr;
        uint32 n = 0;
        ItemPointerSetInvalid(&tid);
        if (first) {
            HnswElementTuple *element = element_at(page, offset);
            if (element != nullptr && query != nullptr && layout_.vector_inline()) {
                const float *vector = layout_.vector(element);
                float ranked_now;
                const bool half = rank_inline(vector, query, &ranked_now);
                // Bitwise: the same kernel on the same values gives the same bits, NaN too.
                if (memcmp(&ranked_now, &ranked_distance, sizeof(float)) != 0) {
                    // The slot holds another vector than the one ranked. Should the cache
                    // still hold the old one (VACUUM was cancelled before it moved the
                    // freed generation on), later scans rank by the page's from now on.
                    if (cache_ != nullptr && cache_->epoch == cache_epoch_) {
                        if (half)
                            hnsw_cache_vector(cache_, id, half_row_, PageGetMaxOffsetNumber(page));
                        else
                            hnsw_forget_cached_vector(cache_, id);
                    }
                    element = nullptr;
                } else if (distance != nullptr) {
                    *distance = half ? metric_distance(metric_, query, vector, layout_.dimensions()) : ranked_now;
                }
            }
            if (element != nullptr) {
                heap_tids = layout_.heap_tids(element);
                n = element->heap_tid_count;
                tid = element->more_heap_tids;
            }
        } else if (offset <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, offset))) {
            auto *chunk = reinterpret_cast<HnswHeapTidsTuple *>(PageGetItem(page, PageGetItemId(page, offset)));
            if (chunk->kind == kHnswHeapTidsTuple) {
                heap_tids = chunk->heap_tids;
                n = chunk->count;
                tid = chunk->next;
            }
        }
        if (count + n > *capacity) {
            *capacity = Max(*capacity * 2, count + n);
            *out = *out ? static_cast<ItemPointerData *>(repalloc(*out, sizeof(ItemPointerData) * *capacity))
                        : static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * *capacity));
        }
        if (n > 0)
            memcpy(*out + count, heap_tids, sizeof(ItemPointerData) * n);
        count += n;
        unlock();
        first = false;
    }
    return count;
}

}  // namespace ann::pg
