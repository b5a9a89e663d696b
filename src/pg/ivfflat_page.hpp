// On-disk format of an ivfflat index. Every page is an ordinary buffer-managed page whose
// changes are WAL-logged; its special space is an IvfflatPageOpaque ending with
// kIvfflatPageId, so tools can tell our pages apart (hnsw uses 0xFF91).
//
//   block 0                meta page: IvfflatMetaData right after the page header
//   blocks 1..centre_pages  list pages: one IvfflatListTuple per line pointer, list 0 first
//   then                   data pages: each list's rows, in a chain of pages
//
// A list tuple holds the list's centre (unit length for the inner product and cosine
// classes, whose lists cluster by direction), the first page of its chain and the page where
// inserts start looking for room. The build writes each list's chain on consecutive blocks,
// in list order, so a scan of one list reads its pages sequentially. Every list has at least
// one data page (possibly empty); pages added later by inserts go to the end of the relation
// and are linked from the list's last page, so block numbers grow along a chain.
//
// A data page has no line pointers: its rows are split into two dense arrays, the vectors
// growing up from the page header and the heap TIDs growing down from the special space,
// with the free space between them (pd_lower and pd_upper bound it, as on any standard
// page, so full-page images and GenericXLog deltas skip it). Row i's vector starts at
// byte SizeOfPageHeaderData + i * 4 * dimensions, its heap TID is the (i + 1)-th
// ItemPointerData below the special space. Without per-row headers or alignment padding a
// row costs 4 * dimensions + 6 bytes: 20 rows of 100 dimensions per 8 kB page. Vectors are
// stored as the index ranks them: normalised for cosine, as given otherwise.
//
// VACUUM removes a dead row by moving the page's last row into its place, so rows never
// move between pages and a scan, which copies what it needs under a share lock, never sees
// a half-moved row.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

namespace ann::pg {

constexpr uint32 kIvfflatMagic = 0x1BF7F1A7;
constexpr uint32 kIvfflatFormatVersion = 1;
constexpr uint16 kIvfflatPageId = 0xFF92;
constexpr BlockNumber kIvfflatMetaBlock = 0;
constexpr BlockNumber kIvfflatFirstListBlock = 1;

enum IvfflatPageFlags : uint16 {
    kIvfflatPageMeta = 1 << 0,
    kIvfflatPageLists = 1 << 1,
    kIvfflatPageData = 1 << 2,
};

struct IvfflatPageOpaque {
    uint16 flags;
    uint16 page_id;          // kIvfflatPageId
    BlockNumber next_block;  // data pages: the next page of the list, or InvalidBlockNumber
};

static_assert(sizeof(IvfflatPageOpaque) == 8, "special space is one MAXALIGN word");

inline IvfflatPageOpaque *ivfflat_page_opaque(Page page)
{
    return reinterpret_cast<IvfflatPageOpaque *>(PageGetSpecialPointer(page));
}

struct IvfflatMetaData {
    uint32 magic;
    uint32 version;
    uint32 dimensions;
    uint32 lists;
    uint32 list_pages;  // list pages follow the meta page: blocks 1..list_pages
    uint16 spherical;   // 1: centres have unit length and lists are chosen by inner product
    uint16 unused;
};

inline IvfflatMetaData *ivfflat_meta_data(Page page)
{
    return reinterpret_cast<IvfflatMetaData *>(PageGetContents(page));
}

struct IvfflatListTuple {
    BlockNumber first_block;   // first data page of the list
    BlockNumber insert_block;  // where inserts start looking for room (a page of the chain)
    float centre[FLEXIBLE_ARRAY_MEMBER];
};

inline Size ivfflat_list_tuple_size(int dim)
{
    return MAXALIGN(offsetof(IvfflatListTuple, centre) + sizeof(float) * dim);
}

// Bytes of a data page available to rows.
constexpr Size kIvfflatDataSpace = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(IvfflatPageOpaque));

// Largest list tuple that fits on an empty list page.
constexpr Size kIvfflatMaxListTupleSize =
    BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfflatPageOpaque)) - sizeof(ItemIdData);

// Most dimensions an ivfflat index can store: a centre's list tuple, padded to MAXALIGN as
// every tuple is, must fit on a list page.
constexpr int kIvfflatMaxDimensions =
    static_cast<int>((MAXALIGN_DOWN(kIvfflatMaxListTupleSize) - offsetof(IvfflatListTuple, centre)) / sizeof(float));
static_assert(MAXALIGN(offsetof(IvfflatListTuple, centre) + sizeof(float) * kIvfflatMaxDimensions) <=
              kIvfflatMaxListTupleSize);

inline Size ivfflat_row_size(int dim)
{
    return sizeof(float) * dim + sizeof(ItemPointerData);
}

inline int ivfflat_rows_per_page(int dim)
{
    return static_cast<int>(kIvfflatDataSpace / ivfflat_row_size(dim));
}

// Rows on a data page of `dim` dimensions.
inline int ivfflat_row_count(Page page, int dim)
{
    return static_cast<int>((reinterpret_cast<PageHeader>(page)->pd_lower - SizeOfPageHeaderData) /
                            (sizeof(float) * dim));
}

inline float *ivfflat_row_vector(Page page, int dim, int row)
{
    return reinterpret_cast<float *>(reinterpret_cast<char *>(page) + SizeOfPageHeaderData) +
           static_cast<Size>(row) * dim;
}

inline ItemPointerData *ivfflat_row_heap_tid(Page page, int row)
{
    return reinterpret_cast<ItemPointerData *>(PageGetSpecialPointer(page)) - (row + 1);
}

inline bool ivfflat_page_has_room(Page page, int dim)
{
    const PageHeader header = reinterpret_cast<PageHeader>(page);
    return static_cast<Size>(header->pd_upper - header->pd_lower) >= ivfflat_row_size(dim);
}

}  // namespace ann::pg
