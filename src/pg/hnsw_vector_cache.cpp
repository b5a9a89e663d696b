#include "pg/hnsw_vector_cache.hpp"

#include <limits>

#include "pg/hnsw.hpp"
#include "pg/hnsw_graph_reader.hpp"

extern "C" {
#include "access/xlog.h"
#include "utils/memutils.h"
}

namespace ann::pg {

namespace {

// Blocks a cache covers: the block array stays below 8 MB.
constexpr BlockNumber kMaxCachedBlocks = 1u << 20;

// What the cache holds, and for which index and freeing of it.
struct SessionCache {
    HnswVectorCache cache;
    MemoryContext context;
    Oid index;
    RelFileNode node;
    uint32 freed_generation;
    uint32 build_id;
    Size used;
};

SessionCache session;

void empty_cache(Relation index, const HnswMeta &meta)
{
    if (session.context == nullptr)
        session.context = AllocSetContextCreate(TopMemoryContext, "hnsw vector cache", ALLOCSET_DEFAULT_SIZES);
    else
        MemoryContextReset(session.context);
    session.cache.pages = nullptr;
    session.cache.page_capacity = 0;
    session.cache.dimensions = static_cast<int>(meta.dimensions);
    session.cache.epoch++;
    session.index = RelationGetRelid(index);
    session.node = index->rd_node;
    session.freed_generation = meta.freed_generation;
    session.build_id = meta.build_id;
    session.used = 0;
}

Size cache_limit()
{
    return static_cast<Size>(hnsw_vector_cache_size) * 1024;
}

// Frees the cache, for a smaller hnsw.vector_cache_size. No scan of the session can be
// using it: that scan's epoch is gone.
void forget_cache()
{
    MemoryContextReset(session.context);
    session.cache.pages = nullptr;
    session.cache.page_capacity = 0;
    session.cache.epoch++;
    session.index = InvalidOid;
    session.used = 0;
}

// Makes the block array cover `block`; false when that would pass the size bound.
bool cover(BlockNumber block)
{
    if (block < session.cache.page_capacity)
        return true;
    if (block >= kMaxCachedBlocks)
        return false;
    BlockNumber capacity = Max(session.cache.page_capacity, static_cast<BlockNumber>(1024));
    while (capacity <= block)
        capacity *= 2;
    const Size grown = (capacity - session.cache.page_capacity) * sizeof(HnswCachedPage);
    if (session.used + grown > cache_limit())
        return false;
    auto *pages = static_cast<HnswCachedPage *>(
        MemoryContextAllocZero(session.context, sizeof(HnswCachedPage) * capacity));
    if (session.cache.pages != nullptr) {
        memcpy(pages, session.cache.pages, sizeof(HnswCachedPage) * session.cache.page_capacity);
        pfree(session.cache.pages);
    }
    session.cache.pages = pages;
    session.cache.page_capacity = capacity;
    session.used += grown;
    return true;
}

}  // namespace

HnswVectorCache *hnsw_vector_cache(Relation index, const HnswMeta &meta)
{
    if (session.used > cache_limit())
        forget_cache();
    if (hnsw_vector_cache_size == 0 || RecoveryInProgress() || !meta.layout().vector_inline() ||
        meta.dimensions == 0)
        return nullptr;
    const bool same = session.context != nullptr && session.index == RelationGetRelid(index) &&
                      RelFileNodeEquals(session.node, index->rd_node) &&
                      session.freed_generation == meta.freed_generation && session.build_id == meta.build_id &&
                      session.cache.dimensions == static_cast<int>(meta.dimensions);
    if (!same)
        empty_cache(index, meta);
    return &session.cache;
}

void hnsw_cache_vector(HnswVectorCache *cache, uint64 id, const float *vector, OffsetNumber page_slots)
{
    Assert(cache == &session.cache);
    const BlockNumber block = static_cast<BlockNumber>(id >> 16);
    const uint32 offset = static_cast<uint32>(id & 0xFFFF);
    if (offset < FirstOffsetNumber || offset > page_slots || !cover(block))
        return;
    HnswCachedPage &cached = cache->pages[block];
    const Size dimensions = static_cast<Size>(cache->dimensions);
    if (offset > cached.slots) {
        // The page has more slots than when its first vector was kept: room for all of them.
        const Size bytes = sizeof(float) * dimensions * page_slots;
        const Size freed = sizeof(float) * dimensions * cached.slots;
        if (session.used - freed + bytes > cache_limit())
            return;
        auto *vectors = static_cast<float *>(MemoryContextAlloc(session.context, bytes));
        if (cached.vectors != nullptr) {
            memcpy(vectors, cached.vectors, freed);
            pfree(cached.vectors);
        }
        for (uint32 slot = cached.slots; slot < page_slots; slot++)
            vectors[slot * dimensions] = std::numeric_limits<float>::quiet_NaN();
        cached.vectors = vectors;
        cached.slots = page_slots;
        session.used += bytes - freed;
    }
    memcpy(cached.vectors + (offset - 1) * dimensions, vector, sizeof(float) * dimensions);
}

}  // namespace ann::pg
