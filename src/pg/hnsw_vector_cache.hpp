// A session's copy of the element vectors its index scans have read, so that ranking a
// neighbour costs no buffer access: a graph search ranks some 15 neighbours for every element
// it expands, and pinning and locking a page for each was most of a scan's time.
//
// The copies are halves (core/half.h): a search's ranking waits on loading vectors, and
// halves load twice as fast and let twice as many stay in the CPU's caches. A scan that uses
// the cache ranks every neighbour by its half row, the ones it reads from pages too, so all
// its distances compare alike; it re-ranks the elements it hands out by their vectors on the
// page (HnswGraphReader::read_heap_tids), so rows come out in the order of their vectors. A
// vector that halves would rank poorly (encode_half_row) is never kept and is ranked by its
// page's floats.
//
// Only vectors are kept: an element's vector never changes while the element exists, whereas
// its links and rows do, and those are still read from the page. A slot's vector changes
// only when VACUUM frees the element and an insert reuses the slot, or when the index is
// rebuilt in the same file. VACUUM then moves the meta page's freed generation on, a build
// draws a new build id, and a scan that sees either differ starts from an empty cache. A scan
// that is running meanwhile may still rank by the old vector; when it reads the element's
// rows it ranks the page's vector the same way, and leaves out an element whose ranking
// distance has changed. It also copies the page's vector into the cache then, for a VACUUM
// cancelled between freeing slots and moving the generation on would leave the old one.
//
// A vector is kept when a scan first reads it from its page. Up to eight indexes at a time,
// each in memory of its own; hnsw.vector_cache_size bounds them together (0 turns caching
// off and frees them), and the index used least recently gives way first. Not used during
// recovery, where scans cannot count on seeing the freed generation move before the slots
// are reused.
#pragma once

#include "core/half.h"
#include "pg/hnsw_pages.hpp"

namespace ann::pg {

// A half NaN, which no stored vector's half row starts with.
constexpr core::Half kHnswMissingHalf = 0x7E00;

// The half rows of one page's slots, offsets 1..slots; a slot whose vector was not kept (yet)
// starts with kHnswMissingHalf.
struct HnswCachedPage {
    core::Half *rows;  // slots x row_length
    uint32 slots;
};

struct HnswVectorCache {
    HnswCachedPage *pages;  // by block; no slots where nothing is kept
    BlockNumber page_capacity;
    int dimensions;
    uint32 row_length;  // core::half_row_length(dimensions)
    // Moves on whenever the cache is emptied: a scan that outlives that (another scan of the
    // session made room, or took the cache for another index) must not use it any more.
    uint64 epoch;
};

// The cache for scans of `index`, emptied first if it holds vectors from before the meta
// page's last freeing; null when scans should read pages only.
HnswVectorCache *hnsw_vector_cache(Relation index, const HnswMeta &meta);

// Where the cache keeps the half row of element `id` (block << 16 | offset), or null. The
// slot may be empty (hnsw_cached_vector_present): reading it is left to the caller, which
// can prefetch it first.
inline const core::Half *hnsw_cached_slot(const HnswVectorCache *cache, uint64 id)
{
    const BlockNumber block = static_cast<BlockNumber>(id >> 16);
    const uint32 offset = static_cast<uint32>(id & 0xFFFF);
    if (block >= cache->page_capacity || offset < FirstOffsetNumber || offset > cache->pages[block].slots)
        return nullptr;
    return cache->pages[block].rows + static_cast<Size>(offset - 1) * cache->row_length;
}

inline bool hnsw_cached_vector_present(const core::Half *slot)
{
    return slot[0] != kHnswMissingHalf;
}

// Keeps `row`, the half row of the vector just read from element `id` on its share-locked
// page of `page_slots` slots, if the size bound leaves room.
void hnsw_cache_vector(HnswVectorCache *cache, uint64 id, const core::Half *row, OffsetNumber page_slots);

// Empties the slot of element `id`, whose vector has no half row, so that scans read its page.
void hnsw_forget_cached_vector(HnswVectorCache *cache, uint64 id);

}  // namespace ann::pg
