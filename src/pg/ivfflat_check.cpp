// ann_index_check for ivfflat indexes (see index_check.hpp). Each page is copied under a
// share lock and judged from the copy, so inserts, scans and VACUUM may run meanwhile:
//   meta page    page id and flags, magic, format version, dimensions within the limit,
//                lists >= 1, list pages inside the index and enough for the lists;
//   list pages   page id and flags, one list tuple per line pointer, as many as lists,
//                each long enough for its centre, a finite centre, first and insert
//                blocks among the data pages;
//   chains       each list's chain of data pages, followed from its first block: data
//                pages only, no page in two chains or twice in one (a loop), the insert
//                block on the chain;
//   data pages   pd_lower and pd_upper agree on the row count, finite vectors, heap TIDs
//                valid and inside the table.
// Counted but allowed: data pages no chain reaches ("unlinked pages"): an insert that just
// extended the index links its new page in the same WAL record that fills it, but a check
// reading between the two, or a crash between extending the file and that record, leaves
// a new (all-zero) page, which VACUUM and inserts never use.
#include "pg/ivfflat.hpp"

#include <cmath>

#include "pg/index_check.hpp"
#include "pg/ivfflat_page.hpp"
#include "pg/ivfflat_pages.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
}

namespace ann::pg {

namespace {

class IvfflatChecker {
public:
    IvfflatChecker(Relation heap, Relation index) : heap_(heap), index_(index)
    {
        blocks_ = RelationGetNumberOfBlocks(index);
        page_ = static_cast<Page>(palloc(BLCKSZ));
        on_chain_ = static_cast<bool *>(palloc0(Max(blocks_, 1u) * sizeof(bool)));
    }

    void check(IndexCheckCounts *counts);

private:
    // Copies block `block` into page_ and checks its special space.
    void read(BlockNumber block, uint16 flags)
    {
        Buffer buffer = ReadBuffer(index_, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        memcpy(page_, BufferGetPage(buffer), BLCKSZ);
        UnlockReleaseBuffer(buffer);
        if (PageIsNew(page_) || PageGetSpecialSize(page_) != MAXALIGN(sizeof(IvfflatPageOpaque)) ||
            ivfflat_page_opaque(page_)->page_id != kIvfflatPageId)
            report_index_corruption(index_, block, InvalidOffsetNumber, "The page is not an ivfflat page.");
        if (ivfflat_page_opaque(page_)->flags != flags)
            report_index_corruption(index_, block, InvalidOffsetNumber,
                                    "The page has flags 0x%x where 0x%x were expected.",
                                    ivfflat_page_opaque(page_)->flags, flags);
    }
    bool is_data_block(BlockNumber block) const { return block > list_pages_ && block < blocks_; }
    void check_meta();
    void check_lists();
    void check_chain(BlockNumber list_block, OffsetNumber list_offset, BlockNumber first, BlockNumber insert_block);

    Relation heap_;
    Relation index_;
    BlockNumber blocks_;
    Page page_;
    bool *on_chain_;
    int dim_ = 0;
    uint32 lists_ = 0;
    BlockNumber list_pages_ = 0;
    BlockNumber heap_blocks_ = 0;
    int64 data_pages_ = 0;
    int64 rows_ = 0;
    int64 empty_lists_ = 0;
};

void IvfflatChecker::check_meta()
{
    read(kIvfflatMetaBlock, kIvfflatPageMeta);
    const IvfflatMetaData *meta = ivfflat_meta_data(page_);
    if (meta->magic != kIvfflatMagic || meta->version != kIvfflatFormatVersion)
        report_index_corruption(index_, kIvfflatMetaBlock, InvalidOffsetNumber,
                                "The meta page has magic 0x%08X and version %u.", meta->magic, meta->version);
    if (meta->dimensions < 1 || meta->dimensions > static_cast<uint32>(kIvfflatMaxDimensions))
        report_index_corruption(index_, kIvfflatMetaBlock, InvalidOffsetNumber,
                                "The meta page gives %u dimensions.", meta->dimensions);
    dim_ = static_cast<int>(meta->dimensions);
    lists_ = meta->lists;
    list_pages_ = meta->list_pages;
    const uint32 lists_per_page = static_cast<uint32>((kIvfflatMaxListTupleSize + sizeof(ItemIdData)) /
                                                      (ivfflat_list_tuple_size(dim_) + sizeof(ItemIdData)));
    if (lists_ < 1 || list_pages_ < (lists_ + lists_per_page - 1) / Max(lists_per_page, 1u) ||
        list_pages_ >= blocks_)
        report_index_corruption(index_, kIvfflatMetaBlock, InvalidOffsetNumber,
                                "The meta page gives %u lists on %u list pages in an index of %u blocks.",
                                lists_, list_pages_, blocks_);
}

void IvfflatChecker::check_lists()
{
    uint32 seen = 0;
    for (BlockNumber block = kIvfflatFirstListBlock; block <= list_pages_; block++) {
        CHECK_FOR_INTERRUPTS();
        read(block, kIvfflatPageLists);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page_);
        // The chains are walked after this page, which they overwrite in page_.
        BlockNumber *first = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * (max_offset + 1)));
        BlockNumber *insert = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * (max_offset + 1)));
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            ItemId item = PageGetItemId(page_, offset);
            if (!ItemIdIsNormal(item) || ItemIdGetLength(item) < ivfflat_list_tuple_size(dim_) ||
                ItemIdGetOffset(item) + ItemIdGetLength(item) > BLCKSZ)
                report_index_corruption(index_, block, offset, "The list tuple is missing or too short.");
            const auto *list = reinterpret_cast<const IvfflatListTuple *>(PageGetItem(page_, item));
            for (int d = 0; d < dim_; d++) {
                if (!std::isfinite(list->centre[d]))
                    report_index_corruption(index_, block, offset, "The list's centre is not finite.");
            }
            if (!is_data_block(list->first_block) || !is_data_block(list->insert_block))
                report_index_corruption(index_, block, offset,
                                        "The list starts at block %u and inserts at block %u, not data pages.",
                                        list->first_block, list->insert_block);
            first[offset] = list->first_block;
            insert[offset] = list->insert_block;
        }
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++)
            check_chain(block, offset, first[offset], insert[offset]);
        seen += max_offset;
        pfree(first);
        pfree(insert);
    }
    if (seen != lists_)
        report_index_corruption(index_, list_pages_, InvalidOffsetNumber,
                                "The list pages hold %u lists where the meta page gives %u.", seen, lists_);
}

void IvfflatChecker::check_chain(BlockNumber list_block, OffsetNumber list_offset, BlockNumber first,
                                 BlockNumber insert_block)
{
    bool reaches_insert_block = false;
    int64 list_rows = 0;
    for (BlockNumber block = first; block != InvalidBlockNumber;) {
        CHECK_FOR_INTERRUPTS();
        if (!is_data_block(block))
            report_index_corruption(index_, list_block, list_offset,
                                    "The list's chain reaches block %u, not a data page.", block);
        if (on_chain_[block])
            report_index_corruption(index_, list_block, list_offset,
                                    "The list's chain reaches block %u a second time (a loop, or a page of two lists).",
                                    block);
        on_chain_[block] = true;
        reaches_insert_block = reaches_insert_block || block == insert_block;
        read(block, kIvfflatPageData);
        const PageHeader header = reinterpret_cast<PageHeader>(page_);
        const Size vector_bytes = sizeof(float) * dim_;
        const int rows = ivfflat_row_count(page_, dim_);
        if (header->pd_lower < SizeOfPageHeaderData || (header->pd_lower - SizeOfPageHeaderData) % vector_bytes != 0 ||
            reinterpret_cast<char *>(page_) + header->pd_upper !=
                reinterpret_cast<char *>(ivfflat_row_heap_tid(page_, rows - 1)) ||
            header->pd_lower > header->pd_upper)
            report_index_corruption(index_, block, InvalidOffsetNumber,
                                    "pd_lower %u and pd_upper %u do not bound whole rows of %d dimensions.",
                                    header->pd_lower, header->pd_upper, dim_);
        for (int row = 0; row < rows; row++) {
            const float *vector = ivfflat_row_vector(page_, dim_, row);
            for (int d = 0; d < dim_; d++) {
                if (!std::isfinite(vector[d]))
                    report_index_corruption(index_, block, InvalidOffsetNumber, "Row %d has a vector that is not finite.", row);
            }
            const ItemPointerData *tid = ivfflat_row_heap_tid(page_, row);
            // A row inserted since the table's size was taken may point past it: look again.
            if (ItemPointerIsValid(tid) && ItemPointerGetBlockNumberNoCheck(tid) >= heap_blocks_)
                heap_blocks_ = RelationGetNumberOfBlocks(heap_);
            if (!ItemPointerIsValid(tid) || ItemPointerGetBlockNumberNoCheck(tid) >= heap_blocks_)
                report_index_corruption(index_, block, InvalidOffsetNumber,
                                        "Row %d points to (%u,%u), outside the table's %u blocks.", row,
                                        ItemPointerGetBlockNumberNoCheck(tid), ItemPointerGetOffsetNumberNoCheck(tid),
                                        heap_blocks_);
        }
        data_pages_++;
        list_rows += rows;
        block = ivfflat_page_opaque(page_)->next_block;
    }
    if (!reaches_insert_block)
        report_index_corruption(index_, list_block, list_offset,
                                "The list's insert block %u is not on its chain.", insert_block);
    rows_ += list_rows;
    empty_lists_ += list_rows == 0 ? 1 : 0;
}

void IvfflatChecker::check(IndexCheckCounts *counts)
{
    heap_blocks_ = RelationGetNumberOfBlocks(heap_);
    check_meta();
    check_lists();
    int64 unlinked = 0;
    for (BlockNumber block = list_pages_ + 1; block < blocks_; block++)
        unlinked += on_chain_[block] ? 0 : 1;
    add_check_count(counts, "pages", blocks_);
    add_check_count(counts, "lists", lists_);
    add_check_count(counts, "empty lists", empty_lists_);
    add_check_count(counts, "data pages", data_pages_);
    add_check_count(counts, "unlinked pages", unlinked);
    add_check_count(counts, "heap TIDs", rows_);
}

}  // namespace

void ivfflat_check_index(Relation heap, Relation index, IndexCheckCounts *counts)
{
    IvfflatChecker checker(heap, index);
    checker.check(counts);
}

}  // namespace ann::pg
