#include "pg/hnsw_vector_cache.hpp"

#include "pg/hnsw.hpp"
#include "pg/hnsw_graph_reader.hpp"

extern "C" {
#include "access/xlog.h"
#include "utils/memutils.h"
}

namespace ann::pg {

namespace {

// Blocks a cache covers: the block array stays below 16 MB.
constexpr BlockNumber kMaxCachedBlocks = 1u << 20;

// Indexes whose vectors a session keeps at once: a query over a partitioned table scans
// one index per partition side by side, and a cache of one would be emptied by each.
constexpr int kCachedIndexes = 8;

// What one cache holds, and for which index and freeing of it.
struct IndexCache {
    HnswVectorCache cache;  // first: hnsw_cache_vector finds its IndexCache from it
    MemoryContext context;
    Oid index;              // InvalidOid while unused
    RelFileNode node;
    uint32 freed_generation;
    uint32 build_id;
    Size used;
    uint64 last_used;
};

IndexCache caches[kCachedIndexes];
Size total_used;
uint64 use_clock;

Size cache_limit()
{
    return static_cast<Size>(hnsw_vector_cache_size) * 1024;
}

// Frees what `entry` holds. A scan that still refers to it sees its epoch moved on.
void forget(IndexCache &entry)
{
    if (entry.context != nullptr)
        MemoryContextReset(entry.context);
    entry.cache.pages = nullptr;
    entry.cache.page_capacity = 0;
    entry.cache.epoch++;
    entry.index = InvalidOid;
    total_used -= entry.used;
    entry.used = 0;
}

void assign(IndexCache &entry, Relation index, const HnswMeta &meta)
{
    forget(entry);
    if (entry.context == nullptr)
        entry.context = AllocSetContextCreate(TopMemoryContext, "hnsw vector cache", ALLOCSET_DEFAULT_SIZES);
    entry.cache.dimensions = static_cast<int>(meta.dimensions);
    entry.cache.row_length = static_cast<uint32>(core::half_row_length(meta.dimensions));
    entry.index = RelationGetRelid(index);
    entry.node = index->rd_node;
    entry.freed_generation = meta.freed_generation;
    entry.build_id = meta.build_id;
}

// Whether `bytes` more fit the size bound, after freeing the caches of indexes used less
// recently than `entry`'s if need be.
bool make_room(const IndexCache &entry, Size bytes)
{
    while (total_used + bytes > cache_limit()) {
        IndexCache *oldest = nullptr;
        for (IndexCache &other : caches) {
            if (other.used > 0 && other.last_used < entry.last_used &&
                (oldest == nullptr || other.last_used < oldest->last_used))
                oldest = &other;
        }
        if (oldest == nullptr)
            return false;
        forget(*oldest);
    }
    return true;
}

void account(IndexCache &entry, Size added, Size freed)
{
    entry.used += added - freed;
    total_used += added - freed;
}

// Makes the block array cover `block`; false when that would pass the size bound.
bool cover(IndexCache &entry, BlockNumber block)
{
    HnswVectorCache &cache = entry.cache;
    if (block < cache.page_capacity)
        return true;
    if (block >= kMaxCachedBlocks)
        return false;
    BlockNumber capacity = Max(cache.page_capacity, static_cast<BlockNumber>(1024));
    while (capacity <= block)
        capacity *= 2;
    const Size grown = (capacity - cache.page_capacity) * sizeof(HnswCachedPage);
    if (!make_room(entry, grown))
        return false;
    auto *pages = static_cast<HnswCachedPage *>(MemoryContextAllocZero(entry.context, sizeof(HnswCachedPage) * capacity));
    if (cache.pages != nullptr) {
        memcpy(pages, cache.pages, sizeof(HnswCachedPage) * cache.page_capacity);
        pfree(cache.pages);
    }
    cache.pages = pages;
    cache.page_capacity = capacity;
    account(entry, grown, 0);
    return true;
}

}  // namespace

HnswVectorCache *hnsw_vector_cache(Relation index, const HnswMeta &meta)
{
    if (total_used > cache_limit()) {
        for (IndexCache &entry : caches)
            forget(entry);
    }
    if (hnsw_vector_cache_size == 0 || RecoveryInProgress() || !meta.layout().vector_inline() ||
        meta.dimensions == 0)
        return nullptr;
    IndexCache *found = nullptr;
    IndexCache *oldest = &caches[0];
    for (IndexCache &entry : caches) {
        if (entry.index == RelationGetRelid(index) && RelFileNodeEquals(entry.node, index->rd_node))
            found = &entry;
        if (entry.last_used < oldest->last_used)
            oldest = &entry;
    }
    if (found == nullptr)
        assign(*oldest, index, meta);
    else if (found->freed_generation != meta.freed_generation || found->build_id != meta.build_id ||
             found->cache.dimensions != static_cast<int>(meta.dimensions))
        assign(*found, index, meta);
    IndexCache &entry = found != nullptr ? *found : *oldest;
    entry.last_used = ++use_clock;
    return &entry.cache;
}

void hnsw_cache_vector(HnswVectorCache *cache, uint64 id, const core::Half *row, OffsetNumber page_slots)
{
    IndexCache &entry = *reinterpret_cast<IndexCache *>(cache);
    const BlockNumber block = static_cast<BlockNumber>(id >> 16);
    const uint32 offset = static_cast<uint32>(id & 0xFFFF);
    if (offset < FirstOffsetNumber || offset > page_slots || !cover(entry, block))
        return;
    HnswCachedPage &cached = cache->pages[block];
    const Size row_length = cache->row_length;
    if (offset > cached.slots) {
        // The page has more slots than when its first vector was kept: room for all of them.
        const Size bytes = sizeof(core::Half) * row_length * page_slots;
        const Size freed = sizeof(core::Half) * row_length * cached.slots;
        if (bytes > freed && !make_room(entry, bytes - freed))
            return;
        auto *rows = static_cast<core::Half *>(MemoryContextAlloc(entry.context, bytes));
        if (cached.rows != nullptr) {
            memcpy(rows, cached.rows, freed);
            pfree(cached.rows);
        }
        for (uint32 slot = cached.slots; slot < page_slots; slot++)
            rows[slot * row_length] = kHnswMissingHalf;
        cached.rows = rows;
        cached.slots = page_slots;
        account(entry, bytes, freed);
    }
    memcpy(cached.rows + (offset - 1) * row_length, row, sizeof(core::Half) * row_length);
}

void hnsw_forget_cached_vector(HnswVectorCache *cache, uint64 id)
{
    // The cache's own memory, handed out read-only to the scans that rank from it.
    if (core::Half *slot = const_cast<core::Half *>(hnsw_cached_slot(cache, id)))
        slot[0] = kHnswMissingHalf;
}

}  // namespace ann::pg
