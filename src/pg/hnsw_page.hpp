// On-disk format of an hnsw index. Every page is an ordinary buffer-managed page whose
// changes are WAL-logged; its special space ends with kHnswPageId so tools can tell our
// pages apart.
//
//   block 0     meta page: HnswMetaData right after the page header
//   block 1..   element pages: one HnswElementTuple per line pointer
//
// An element is one graph node: the heap rows holding its vector (identical vectors share
// an element), its top level, the vector itself (normalised for cosine) and its neighbour
// lists for levels 0..level, level 0 first. Keeping vector and links in one tuple means that
// expanding a node during a scan costs one buffer access for its links, and ranking each
// neighbour one more for that neighbour's vector, the least a paged graph allows.
//
// The vector and link slots have fixed offsets (they depend only on dim, m and the level), so
// links are updated in place. Heap TIDs come last and their count varies: a duplicate found
// by an insert grows the tuple where the page has room. VACUUM removes heap TIDs of dead
// rows; an element with none left is skipped by scans, unlinked by VACUUM's repair pass, then
// its line pointer is freed for reuse.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

namespace ann::pg {

constexpr uint32 kHnswMagic = 0xA22E5A11;
constexpr uint32 kHnswFormatVersion = 1;
constexpr uint16 kHnswPageId = 0xFF91;
constexpr BlockNumber kHnswMetaBlock = 0;

// Heap rows kept inside an element: identical vectors share one graph node. Rows beyond
// these go to a chain of HnswHeapTidsTuples hanging off the element.
constexpr int kHnswMaxInlineHeapTids = 16;

// The highest level an element may have; with m >= 2 a level above this is vanishingly rare.
// High-dimensional elements are capped lower, at what fits on a page (hnsw_max_level).
constexpr int kHnswMaxLevel = 15;

enum HnswPageFlags : uint16 {
    kHnswPageMeta = 1 << 0,
    kHnswPageElements = 1 << 1,
};

struct HnswPageOpaque {
    uint16 flags;
    uint16 page_id;  // kHnswPageId
};

inline HnswPageOpaque *hnsw_page_opaque(Page page)
{
    return reinterpret_cast<HnswPageOpaque *>(PageGetSpecialPointer(page));
}

struct HnswMetaData {
    uint32 magic;
    uint32 version;
    uint32 dimensions;
    uint16 m;
    uint16 ef_construction;
    ItemPointerData entry_point;  // invalid while the index is empty
    int16 entry_level;            // -1 while the index is empty
    uint16 unused;
    BlockNumber insert_block;     // the last element page, where inserts look for room first
};

inline HnswMetaData *hnsw_meta_data(Page page)
{
    return reinterpret_cast<HnswMetaData *>(PageGetContents(page));
}

// Neighbour slots an element at `level` has: 2m at level 0, m on each level above.
constexpr int hnsw_level_capacity(int m, int level)
{
    return level == 0 ? 2 * m : m;
}

constexpr int hnsw_total_link_slots(int m, int level)
{
    return 2 * m + level * m;
}

// First link slot of `level` within an element's link array.
constexpr int hnsw_level_link_offset(int m, int level)
{
    return level == 0 ? 0 : 2 * m + (level - 1) * m;
}

enum HnswTupleKind : uint8 {
    kHnswElementTuple = 1,
    kHnswHeapTidsTuple = 2,
};

// Layout: header, vector, link slots (an empty slot is an invalid TID), inline heap TIDs.
struct HnswElementTuple {
    uint8 kind;  // kHnswElementTuple
    uint8 level;
    uint16 heap_tid_count;          // inline ones; 0 with no chain: every row is gone
    ItemPointerData more_heap_tids;  // first HnswHeapTidsTuple of the chain, or invalid
    uint16 unused;
    float vector[FLEXIBLE_ARRAY_MEMBER];
};

static_assert(offsetof(HnswElementTuple, vector) == 12, "vector must start float-aligned");

// More heap rows of an element whose vector has many copies.
struct HnswHeapTidsTuple {
    uint8 kind;  // kHnswHeapTidsTuple
    uint8 unused;
    uint16 count;
    ItemPointerData next;  // invalid at the end of the chain
    ItemPointerData heap_tids[FLEXIBLE_ARRAY_MEMBER];
};

inline Size hnsw_element_size(int dim, int m, int level, int heap_tid_count)
{
    return MAXALIGN(offsetof(HnswElementTuple, vector) + sizeof(float) * dim +
                    sizeof(ItemPointerData) * (hnsw_total_link_slots(m, level) + heap_tid_count));
}

inline Size hnsw_heap_tids_size(int count)
{
    return MAXALIGN(offsetof(HnswHeapTidsTuple, heap_tids) + sizeof(ItemPointerData) * count);
}

inline ItemPointerData *hnsw_element_links(HnswElementTuple *element, int dim)
{
    return reinterpret_cast<ItemPointerData *>(element->vector + dim);
}

inline ItemPointerData *hnsw_element_heap_tids(HnswElementTuple *element, int dim, int m)
{
    return hnsw_element_links(element, dim) + hnsw_total_link_slots(m, element->level);
}

// Node ids the core search uses for paged elements: block << 16 | offset, so a TID
// round-trips and ids of neighbouring elements on a page stay close.
inline uint64 hnsw_node_id(const ItemPointerData *tid)
{
    return (static_cast<uint64>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
           ItemPointerGetOffsetNumberNoCheck(tid);
}

inline void hnsw_node_tid(uint64 id, ItemPointerData *tid)
{
    ItemPointerSet(tid, static_cast<BlockNumber>(id >> 16), static_cast<OffsetNumber>(id & 0xFFFF));
}

// Largest tuple that fits on an empty element page.
constexpr Size kHnswMaxTupleSize =
    BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaque)) - sizeof(ItemIdData);

// Levels every element must be able to hold; the dimension limit of an index follows from it.
constexpr int kHnswMinLevelsThatFit = 4;

// The highest level an element of `dim` dimensions can have and still fit on a page.
inline int hnsw_max_level(int dim, int m)
{
    int level = kHnswMaxLevel;
    while (level > 0 && hnsw_element_size(dim, m, level, kHnswMaxInlineHeapTids) > kHnswMaxTupleSize)
        --level;
    return level;
}

// Most dimensions an index with `m` links per level can store.
inline int hnsw_max_dimensions(int m)
{
    const Size fixed = hnsw_element_size(0, m, kHnswMinLevelsThatFit, kHnswMaxInlineHeapTids);
    return static_cast<int>((kHnswMaxTupleSize - fixed) / sizeof(float));
}

}  // namespace ann::pg
