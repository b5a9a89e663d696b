#include "pg/ivfflat_pages.hpp"

#include "core/kmeans.h"

extern "C" {
#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
}

namespace ann::pg {

void ivfflat_init_page(Page page, uint16 flags)
{
    PageInit(page, BLCKSZ, sizeof(IvfflatPageOpaque));
    IvfflatPageOpaque *opaque = ivfflat_page_opaque(page);
    opaque->flags = flags;
    opaque->page_id = kIvfflatPageId;
    opaque->next_block = InvalidBlockNumber;
}

void ivfflat_check_page(Relation index, Page page, BlockNumber block)
{
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfflatPageOpaque)) ||
        ivfflat_page_opaque(page)->page_id != kIvfflatPageId)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" contains unexpected page at block %u",
                               RelationGetRelationName(index), block),
                        errhint("Please REINDEX it.")));
}

IvfflatMeta ivfflat_read_meta(Relation index)
{
    Buffer buffer = ReadBuffer(index, kIvfflatMetaBlock);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buffer);
    ivfflat_check_page(index, page, kIvfflatMetaBlock);
    const IvfflatMetaData *data = ivfflat_meta_data(page);
    if (data->magic != kIvfflatMagic || data->version != kIvfflatFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not an ivfflat index of format version %u",
                               RelationGetRelationName(index), kIvfflatFormatVersion),
                        errhint("Please REINDEX it.")));
    IvfflatMeta meta;
    meta.dimensions = static_cast<int>(data->dimensions);
    meta.lists = static_cast<int>(data->lists);
    meta.list_pages = data->list_pages;
    meta.spherical = data->spherical != 0;
    UnlockReleaseBuffer(buffer);
    return meta;
}

IvfflatLists ivfflat_read_lists(Relation index, const IvfflatMeta &meta, bool with_centres)
{
    IvfflatLists lists;
    lists.count = 0;
    lists.centres = with_centres
                        ? static_cast<float *>(palloc_extended(sizeof(float) * meta.dimensions * meta.lists,
                                                               MCXT_ALLOC_HUGE))
                        : nullptr;
    lists.first_block = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * meta.lists));
    lists.insert_block = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * meta.lists));
    lists.location = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * meta.lists));
    for (BlockNumber block = kIvfflatFirstListBlock; block < kIvfflatFirstListBlock + meta.list_pages; block++) {
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        ivfflat_check_page(index, page, block);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset && lists.count < meta.lists; offset++) {
            const auto *list = reinterpret_cast<const IvfflatListTuple *>(PageGetItem(page, PageGetItemId(page, offset)));
            const int l = lists.count++;
            if (with_centres)
                memcpy(lists.centres + static_cast<Size>(l) * meta.dimensions, list->centre,
                       sizeof(float) * meta.dimensions);
            lists.first_block[l] = list->first_block;
            lists.insert_block[l] = list->insert_block;
            ItemPointerSet(&lists.location[l], block, offset);
        }
        UnlockReleaseBuffer(buffer);
    }
    if (lists.count != meta.lists)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" has %d lists, its meta page says %d",
                               RelationGetRelationName(index), lists.count, meta.lists),
                        errhint("Please REINDEX it.")));
    return lists;
}

void ivfflat_free_lists(IvfflatLists &lists)
{
    if (lists.centres != nullptr)
        pfree(lists.centres);
    pfree(lists.first_block);
    pfree(lists.insert_block);
    pfree(lists.location);
    lists.centres = nullptr;
    lists.count = 0;
}

const IvfflatCentres *ivfflat_centres(Relation index)
{
    if (index->rd_amcache != nullptr)
        return static_cast<const IvfflatCentres *>(index->rd_amcache);
    const IvfflatMeta meta = ivfflat_read_meta(index);
    IvfflatLists lists = ivfflat_read_lists(index, meta, true);
    // One allocation: when the relcache rebuilds the entry it frees rd_amcache alone, and
    // arrays of their own in rd_indexcxt would stay behind until the index is closed.
    const Size count = static_cast<Size>(meta.lists);
    const Size centre_bytes = sizeof(float) * count * static_cast<Size>(meta.dimensions);
    const Size header_bytes = MAXALIGN(sizeof(IvfflatCentres));
    char *chunk = static_cast<char *>(MemoryContextAllocHuge(
        index->rd_indexcxt, header_bytes + centre_bytes + count * (sizeof(float) + sizeof(BlockNumber) + sizeof(ItemPointerData))));
    auto *cache = reinterpret_cast<IvfflatCentres *>(chunk);
    cache->meta = meta;
    cache->centres = reinterpret_cast<float *>(chunk + header_bytes);
    cache->norms = cache->centres + count * static_cast<Size>(meta.dimensions);
    cache->first_block = reinterpret_cast<BlockNumber *>(cache->norms + count);
    cache->location = reinterpret_cast<ItemPointerData *>(cache->first_block + count);
    memcpy(cache->centres, lists.centres, centre_bytes);
    memcpy(cache->first_block, lists.first_block, sizeof(BlockNumber) * count);
    memcpy(cache->location, lists.location, sizeof(ItemPointerData) * count);
    core::centre_norms(cache->centres, static_cast<uint32>(meta.lists), static_cast<uint32>(meta.dimensions),
                       cache->norms);
    ivfflat_free_lists(lists);
    index->rd_amcache = cache;
    return cache;
}

BlockNumber ivfflat_read_insert_block(Relation index, const ItemPointerData &location)
{
    const BlockNumber list_block = ItemPointerGetBlockNumber(&location);
    Buffer buffer = ReadBuffer(index, list_block);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buffer);
    ivfflat_check_page(index, page, list_block);
    const BlockNumber block = reinterpret_cast<IvfflatListTuple *>(
        PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&location))))->insert_block;
    UnlockReleaseBuffer(buffer);
    return block;
}

void ivfflat_set_insert_block(Relation index, const ItemPointerData &location, BlockNumber block)
{
    const BlockNumber list_block = ItemPointerGetBlockNumber(&location);
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&location);
    Buffer buffer = ReadBuffer(index, list_block);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buffer);
    ivfflat_check_page(index, page, list_block);
    if (reinterpret_cast<IvfflatListTuple *>(PageGetItem(page, PageGetItemId(page, offset)))->insert_block != block) {
        GenericXLogState *state = GenericXLogStart(index);
        page = GenericXLogRegisterBuffer(state, buffer, 0);
        reinterpret_cast<IvfflatListTuple *>(PageGetItem(page, PageGetItemId(page, offset)))->insert_block = block;
        GenericXLogFinish(state);
    }
    UnlockReleaseBuffer(buffer);
}

void ivfflat_page_add_row(Page page, int dim, const float *vector, ItemPointer heap_tid)
{
    const int row = ivfflat_row_count(page, dim);
    memcpy(ivfflat_row_vector(page, dim, row), vector, sizeof(float) * dim);
    *ivfflat_row_heap_tid(page, row) = *heap_tid;
    PageHeader header = reinterpret_cast<PageHeader>(page);
    header->pd_lower += sizeof(float) * dim;
    header->pd_upper -= sizeof(ItemPointerData);
}

namespace {

// Appends pages to an empty fork in block order.
class PageAppender {
public:
    PageAppender(Relation index, ForkNumber fork) : index_(index), fork_(fork)
    {
        page_ = static_cast<Page>(palloc(BLCKSZ));
    }

    Page page() { return page_; }
    BlockNumber next_block() const { return next_block_; }

    void append()
    {
        Buffer buffer = ReadBufferExtended(index_, fork_, P_NEW, RBM_NORMAL, nullptr);
        if (BufferGetBlockNumber(buffer) != next_block_)
            elog(ERROR, "ivfflat build expected to extend to block %u, got %u", next_block_,
                 BufferGetBlockNumber(buffer));
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        START_CRIT_SECTION();
        memcpy(BufferGetPage(buffer), page_, BLCKSZ);
        MarkBufferDirty(buffer);
        if (fork_ == INIT_FORKNUM)
            log_newpage_buffer(buffer, true);
        END_CRIT_SECTION();
        UnlockReleaseBuffer(buffer);
        next_block_++;
    }

    void release() { pfree(page_); }

private:
    Relation index_;
    ForkNumber fork_;
    Page page_;
    BlockNumber next_block_ = 0;
};

void fill_meta_page(Page page, const IvfflatMeta &meta)
{
    ivfflat_init_page(page, kIvfflatPageMeta);
    IvfflatMetaData *data = ivfflat_meta_data(page);
    data->magic = kIvfflatMagic;
    data->version = kIvfflatFormatVersion;
    data->dimensions = static_cast<uint32>(meta.dimensions);
    data->lists = static_cast<uint32>(meta.lists);
    data->list_pages = meta.list_pages;
    data->spherical = meta.spherical ? 1 : 0;
    data->unused = 0;
    // Covering the meta data with pd_lower keeps it in full-page images.
    reinterpret_cast<PageHeader>(page)->pd_lower =
        reinterpret_cast<char *>(data + 1) - reinterpret_cast<char *>(page);
}

int lists_per_page(int dim)
{
    return static_cast<int>((kIvfflatMaxListTupleSize + sizeof(ItemIdData)) /
                            (ivfflat_list_tuple_size(dim) + sizeof(ItemIdData)));
}

}  // namespace

void ivfflat_write_index(Relation index, ForkNumber fork, const IvfflatMeta &meta_in, const float *centres,
                         const int64 *rows_per_list, const IvfflatRowSource &rows)
{
    const int dim = meta_in.dimensions;
    const int per_list_page = lists_per_page(dim);
    const int per_data_page = ivfflat_rows_per_page(dim);
    IvfflatMeta meta = meta_in;
    meta.list_pages = static_cast<BlockNumber>((meta.lists + per_list_page - 1) / per_list_page);

    PageAppender appender(index, fork);
    fill_meta_page(appender.page(), meta);
    appender.append();

    // Each list's chain starts where the previous one ends, so list tuples can be written
    // before the rows.
    const Size list_size = ivfflat_list_tuple_size(dim);
    auto *list = static_cast<IvfflatListTuple *>(palloc0(list_size));
    BlockNumber data_block = kIvfflatFirstListBlock + meta.list_pages;
    for (int l = 0; l < meta.lists; l++) {
        if (l % per_list_page == 0)
            ivfflat_init_page(appender.page(), kIvfflatPageLists);
        const int64 pages = Max(static_cast<int64>(1), (rows_per_list[l] + per_data_page - 1) / per_data_page);
        list->first_block = data_block;
        list->insert_block = data_block + static_cast<BlockNumber>(pages) - 1;
        memcpy(list->centre, centres + static_cast<Size>(l) * dim, sizeof(float) * dim);
        if (PageAddItem(appender.page(), reinterpret_cast<Item>(list), list_size, InvalidOffsetNumber, false,
                        false) == InvalidOffsetNumber)
            elog(ERROR, "ivfflat build could not place list %d", l);
        data_block += static_cast<BlockNumber>(pages);
        if (l % per_list_page == per_list_page - 1 || l == meta.lists - 1)
            appender.append();
    }
    pfree(list);

    float *vector = static_cast<float *>(palloc(sizeof(float) * dim));
    int64 written = 0;
    for (int l = 0; l < meta.lists; l++) {
        ivfflat_init_page(appender.page(), kIvfflatPageData);
        for (int64 r = 0; r < rows_per_list[l]; r++) {
            if (!ivfflat_page_has_room(appender.page(), dim)) {
                ivfflat_page_opaque(appender.page())->next_block = appender.next_block() + 1;
                appender.append();
                ivfflat_init_page(appender.page(), kIvfflatPageData);
                CHECK_FOR_INTERRUPTS();
            }
            ItemPointerData heap_tid;
            rows.next_row(rows.context, vector, &heap_tid);
            ivfflat_page_add_row(appender.page(), dim, vector, &heap_tid);
            if ((++written & 1023) == 0 && fork == MAIN_FORKNUM)
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, written);
        }
        appender.append();
    }
    pfree(vector);
    appender.release();

    if (fork == MAIN_FORKNUM && RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
}

}  // namespace ann::pg
