// Reading the paged graph for searches (index scans and inserts): what a search needs from
// one element, fetched under a short share lock. The last page stays pinned, as the build
// lays neighbours out on shared pages. A chunked vector is read chunk by chunk after the
// element's page is unlocked: one buffer is locked at a time, as everywhere else.
#pragma once

#include "core/filtered_search.h"
#include "core/hnsw_search.h"
#include "pg/hnsw_pages.hpp"
#include "pg/hnsw_vector_cache.hpp"
#include "pg/index_metric.hpp"

namespace ann::pg {

class HnswGraphReader {
public:
    HnswGraphReader(Relation index, IndexMetric metric, int dimensions, int m)
        : index_(index), metric_(metric), layout_(HnswElementLayout::for_index(dimensions, m))
    {
        if (!layout_.vector_inline())
            chunked_vector_ = static_cast<float *>(palloc(sizeof(float) * dimensions));
    }

    const HnswElementLayout &layout() const { return layout_; }

    // Ranks neighbours by their half rows from now on: those in `cache` where it has them,
    // and keeps there those it reads from pages (hnsw_vector_cache.hpp), as long as the
    // cache stays at `epoch`.
    void use_cache(HnswVectorCache *cache, uint64 epoch)
    {
        cache_ = cache;
        cache_epoch_ = epoch;
        if (half_row_ == nullptr)
            half_row_ = static_cast<core::Half *>(palloc(sizeof(core::Half) * cache->row_length));
    }

    // Releases the pin kept between reads. Call before the reader goes out of use.
    void release();

    // Starts `state` at the meta page's entry point and runs it until the first layer at or
    // below `wide_level` is exhausted (a scan passes 0; an insert its own level, then takes
    // each layer's results and continues with descend() and run()). False when the graph is
    // empty.
    bool search(core::ScanSearchState &state, const float *query, uint32 ef, int wide_level,
                const HnswMeta &meta);

    // Continues `state` after descend(): the same loop as search() without a new start.
    void run(core::ScanSearchState &state, const float *query);

    // Reads the links of `node` on state.level() and offers each neighbour not yet visited.
    template <typename SearchLike>
    void expand(SearchLike &state, uint64 node, const float *query);

    // Starts loading the layer-0 links of elements about to be expanded, so that their cache
    // misses overlap: the pages' buffer headers and line pointers first, then the links.
    void prefetch_layer0_links(const uint64 *ids, uint32 count);

    // Copies the vector of element `id` into `out`; false if it is no longer an element or
    // has no rows left (such an element only awaits VACUUM's repair and must not be linked).
    // With chunked storage, `first_chunk` (if given) receives the TID of the vector's first
    // chunk, so a caller can tell later that the element is still the one read.
    bool read_vector(uint64 id, float *out, ItemPointerData *first_chunk = nullptr);

    // Copies the links of element `id` on `level` to `links` (room for the level's capacity);
    // returns how many. None if it is no longer an element or has no such level.
    uint32 read_links(uint64 id, int level, ItemPointerData *links);

    // Appends the heap TIDs of element `id` (inline ones, then its overflow chain) to `out`,
    // growing it in CurrentMemoryContext. Returns the new count. With a `query`, none unless
    // the element's vector on its page still ranks at `ranked_distance` from it (a vector
    // from the cache may have left its slot, hnsw_vector_cache.hpp); `distance` then receives
    // the metric's distance of the page's vector, in floats.
    uint32 read_heap_tids(uint64 id, ItemPointerData **out, uint32 count, uint32 *capacity,
                          const float *query = nullptr, float ranked_distance = 0.0f, float *distance = nullptr);

    // The element at `offset` of a locked page, or null if the slot holds none.
    static HnswElementTuple *element_at(Page page, OffsetNumber offset);

    // True when every row of the element is gone.
    static bool element_is_dead(const HnswElementTuple *element)
    {
        return element->heap_tid_count == 0 && !ItemPointerIsValid(&element->more_heap_tids);
    }

private:
    // An element's vector as found on its locked page: inline, or the first of its chunks.
    struct VectorLocation {
        const float *values;
        ItemPointerData first_chunk;
    };

    Page pin_and_lock(BlockNumber block);
    void unlock();
    void prefetch_elements(const uint64 *ids, uint32 count);
    template <typename SearchLike>
    uint32 rank_cached(SearchLike &state, uint64 *ids, uint32 count, const float *query);
    bool locate_vector(Page page, OffsetNumber offset, VectorLocation *location);
    bool read_chunks(ItemPointerData chunk, float *out);
    bool distance_to(const VectorLocation &location, const float *query, float *distance);
    bool rank_inline(const float *vector, const float *query, float *distance);

    Relation index_;
    IndexMetric metric_;
    HnswElementLayout layout_;
    float *chunked_vector_ = nullptr;  // a chunked vector being ranked
    HnswVectorCache *cache_ = nullptr;
    uint64 cache_epoch_ = 0;
    // Set by use_cache and kept when the cache goes away mid-search: every distance a search
    // compares is then of a half row (or of floats where encode_half_row refuses the vector).
    core::Half *half_row_ = nullptr;
    Buffer pinned_ = InvalidBuffer;
};

}  // namespace ann::pg
