// On-disk format of an hnsw index. Every page is an ordinary buffer-managed page whose
// changes are WAL-logged; its special space ends with kHnswPageId so tools can tell our
// pages apart.
//
//   block 0     meta page: HnswMetaData right after the page header
//   block 1..   element pages: tuples of the kinds in HnswTupleKind, one per line pointer
//
// An element is one graph node: the heap rows holding its vector (identical vectors share
// an element), its top level, the vector itself (normalised for cosine) and its neighbour
// lists for levels 0..level, level 0 first. Element layout (HnswElementLayout):
//
//   inline vectors    header | vector | link slots | inline heap TIDs
//   chunked vectors   header | first vector chunk's TID | link slots | inline heap TIDs
//
// Vectors are inline whenever an element of kHnswMinLevelsThatFit levels fits on a page with
// its vector (at most 1,867 dimensions with m = 16), which the meta page records as
// kHnswVectorInline (0, also what indexes made before chunked vectors hold). Keeping vector
// and links in one tuple means that expanding a node during a scan costs one buffer access
// for its links, and ranking each neighbour one more for that neighbour's vector, the least
// a paged graph allows. Wider vectors (kHnswVectorChunked) live in a chain of
// HnswVectorChunkTuples, each as large as a page takes (2,035 floats), so that ranking a
// neighbour costs one access for its element and one per chunk: a 2,000-dimension vector
// still takes a single page. The build writes elements first, in breadth-first order, then
// the chunks: neighbours' elements share pages, so a scan reads their chunk TIDs for the
// cost of a few pages. Inserts write the chunks before the element, so no reader sees an
// element without its vector; an insert interrupted in between leaves chunks nobody
// references, which only REINDEX reclaims.
//
// The vector (or its chunk TID) and link slots have fixed offsets (they depend only on dim,
// m, the storage and the level), so links are updated in place. Heap TIDs come last and their
// count varies: a duplicate found by an insert grows the tuple where the page has room.
// VACUUM removes heap TIDs of dead rows; an element with none left is skipped by scans,
// unlinked by VACUUM's repair pass, then its line pointer and, after it, its vector chunks
// are freed for reuse. A reader that took the chunk TID before checks each chunk's kind and
// count, and gives the element up when they do not add up to the dimensions.
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
    uint16 vector_storage;        // HnswVectorStorage; set with the dimensions
    BlockNumber insert_block;     // the last element page, where inserts look for room first
    // Moves on each time VACUUM frees elements, whose slots inserts may then reuse for other
    // vectors (see hnsw_vector_cache.hpp). Indexes made before it read 0 here: the page was
    // zeroed, and the field lay beyond pd_lower until first moved.
    uint32 freed_generation;
    // Random, drawn by each build: a TRUNCATE in the transaction that created the relation
    // rebuilds the index in place, where nothing else tells its pages apart from the old ones.
    uint32 build_id;
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
    kHnswVectorChunkTuple = 3,
};

// Where an index keeps its elements' vectors (HnswMetaData::vector_storage).
enum HnswVectorStorage : uint16 {
    kHnswVectorInline = 0,
    kHnswVectorChunked = 1,
};

// Header of an element; HnswElementLayout places what follows it (an empty link slot is an
// invalid TID).
struct HnswElementTuple {
    uint8 kind;  // kHnswElementTuple
    uint8 level;
    uint16 heap_tid_count;          // inline ones; 0 with no chain: every row is gone
    ItemPointerData more_heap_tids;  // first HnswHeapTidsTuple of the chain, or invalid
    uint16 unused;
    char body[FLEXIBLE_ARRAY_MEMBER];
};

constexpr Size kHnswElementHeaderSize = offsetof(HnswElementTuple, body);
static_assert(kHnswElementHeaderSize == 12, "an inline vector must start float-aligned");

// More heap rows of an element whose vector has many copies.
struct HnswHeapTidsTuple {
    uint8 kind;  // kHnswHeapTidsTuple
    uint8 unused;
    uint16 count;
    ItemPointerData next;  // invalid at the end of the chain
    ItemPointerData heap_tids[FLEXIBLE_ARRAY_MEMBER];
};

// A piece of a chunked vector: its floats in order, chunk after chunk.
struct HnswVectorChunkTuple {
    uint8 kind;  // kHnswVectorChunkTuple
    uint8 unused;
    uint16 count;          // floats in this chunk, at least 1
    ItemPointerData next;  // invalid at the last chunk
    uint16 padding;
    float values[FLEXIBLE_ARRAY_MEMBER];
};

static_assert(offsetof(HnswVectorChunkTuple, values) == 12, "chunk values must start float-aligned");

inline Size hnsw_heap_tids_size(int count)
{
    return MAXALIGN(offsetof(HnswHeapTidsTuple, heap_tids) + sizeof(ItemPointerData) * count);
}

inline Size hnsw_vector_chunk_size(int count)
{
    return MAXALIGN(offsetof(HnswVectorChunkTuple, values) + sizeof(float) * count);
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

// Floats in a full vector chunk: as many as a page takes (a tuple's size is MAXALIGNed).
constexpr int kHnswVectorChunkFloats = static_cast<int>(
    (TYPEALIGN_DOWN(MAXIMUM_ALIGNOF, kHnswMaxTupleSize) - offsetof(HnswVectorChunkTuple, values)) / sizeof(float));

// Levels every element must be able to hold: vectors are inline only when such an element
// fits on a page with them.
constexpr int kHnswMinLevelsThatFit = 4;

// Where the parts of an index's elements lie, from its dimensions, m and vector storage.
class HnswElementLayout {
public:
    HnswElementLayout(int dimensions, int m, HnswVectorStorage storage)
        : dimensions_(dimensions), m_(m), storage_(storage),
          links_offset_(kHnswElementHeaderSize +
                        (storage == kHnswVectorInline ? sizeof(float) * dimensions : sizeof(ItemPointerData)))
    {
    }

    // The layout a new index of `dimensions` uses: inline vectors whenever they fit.
    static HnswElementLayout for_index(int dimensions, int m)
    {
        const HnswElementLayout inline_layout(dimensions, m, kHnswVectorInline);
        const bool fits = inline_layout.element_size(kHnswMinLevelsThatFit, kHnswMaxInlineHeapTids) <= kHnswMaxTupleSize;
        return fits ? inline_layout : HnswElementLayout(dimensions, m, kHnswVectorChunked);
    }

    int dimensions() const { return dimensions_; }
    int m() const { return m_; }
    HnswVectorStorage storage() const { return storage_; }
    bool vector_inline() const { return storage_ == kHnswVectorInline; }

    Size element_size(int level, int heap_tid_count) const
    {
        return MAXALIGN(links_offset_ + sizeof(ItemPointerData) * (hnsw_total_link_slots(m_, level) + heap_tid_count));
    }

    // The highest level an element can have and still fit on a page.
    int max_level() const
    {
        int level = kHnswMaxLevel;
        while (level > 0 && element_size(level, kHnswMaxInlineHeapTids) > kHnswMaxTupleSize)
            --level;
        return level;
    }

    // Inline storage only.
    float *vector(HnswElementTuple *element) const { return reinterpret_cast<float *>(element->body); }
    const float *vector(const HnswElementTuple *element) const { return reinterpret_cast<const float *>(element->body); }

    // Chunked storage only: the TID of the vector's first chunk.
    ItemPointerData *vector_chunk(HnswElementTuple *element) const
    {
        return reinterpret_cast<ItemPointerData *>(element->body);
    }
    const ItemPointerData *vector_chunk(const HnswElementTuple *element) const
    {
        return reinterpret_cast<const ItemPointerData *>(element->body);
    }

    Size links_offset() const { return links_offset_; }
    ItemPointerData *links(HnswElementTuple *element) const
    {
        return reinterpret_cast<ItemPointerData *>(reinterpret_cast<char *>(element) + links_offset_);
    }
    const ItemPointerData *links(const HnswElementTuple *element) const
    {
        return reinterpret_cast<const ItemPointerData *>(reinterpret_cast<const char *>(element) + links_offset_);
    }

    ItemPointerData *heap_tids(HnswElementTuple *element) const
    {
        return links(element) + hnsw_total_link_slots(m_, element->level);
    }
    const ItemPointerData *heap_tids(const HnswElementTuple *element) const
    {
        return links(element) + hnsw_total_link_slots(m_, element->level);
    }

private:
    int dimensions_;
    int m_;
    HnswVectorStorage storage_;
    Size links_offset_;
};

}  // namespace ann::pg
