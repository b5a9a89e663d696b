#include "pg/hnsw_pages.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
}

namespace ann::pg {

HnswVectorStorage hnsw_vector_storage(uint32 dimensions, int m)
{
    return dimensions == 0 ? kHnswVectorInline : HnswElementLayout::for_index(static_cast<int>(dimensions), m).storage();
}

void hnsw_init_page(Page page, uint16 flags)
{
    PageInit(page, BLCKSZ, sizeof(HnswPageOpaque));
    HnswPageOpaque *opaque = hnsw_page_opaque(page);
    opaque->flags = flags;
    opaque->page_id = kHnswPageId;
}

void hnsw_check_page(Relation index, Page page, BlockNumber block)
{
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaque)) ||
        hnsw_page_opaque(page)->page_id != kHnswPageId)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" contains unexpected page at block %u",
                               RelationGetRelationName(index), block),
                        errhint("Please REINDEX it.")));
}

HnswMeta hnsw_read_meta(Relation index)
{
    Buffer buffer = ReadBuffer(index, kHnswMetaBlock);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buffer);
    hnsw_check_page(index, page, kHnswMetaBlock);
    const HnswMetaData *data = hnsw_meta_data(page);
    if (data->magic != kHnswMagic || data->version != kHnswFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not an hnsw index of format version %u",
                               RelationGetRelationName(index), kHnswFormatVersion),
                        errhint("Please REINDEX it.")));
    if (data->vector_storage != hnsw_vector_storage(data->dimensions, data->m))
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" stores its %u-dimensional vectors in an unknown way (%u)",
                               RelationGetRelationName(index), data->dimensions, data->vector_storage),
                        errhint("Please REINDEX it.")));
    HnswMeta meta;
    meta.dimensions = data->dimensions;
    meta.m = data->m;
    meta.ef_construction = data->ef_construction;
    meta.entry_point = data->entry_point;
    meta.entry_level = data->entry_level;
    meta.insert_block = data->insert_block;
    meta.freed_generation = data->freed_generation;
    meta.build_id = data->build_id;
    UnlockReleaseBuffer(buffer);
    return meta;
}

namespace {

// Covering the meta data with pd_lower keeps it in full-page images, and in the deltas of
// GenericXLog, which leaves out the hole between pd_lower and pd_upper.
void cover_meta_data(Page page)
{
    const HnswMetaData *data = hnsw_meta_data(page);
    reinterpret_cast<PageHeader>(page)->pd_lower =
        reinterpret_cast<const char *>(data + 1) - reinterpret_cast<const char *>(page);
}

void fill_meta_page(Page page, const HnswMeta &meta)
{
    hnsw_init_page(page, kHnswPageMeta);
    HnswMetaData *data = hnsw_meta_data(page);
    data->magic = kHnswMagic;
    data->version = kHnswFormatVersion;
    data->dimensions = meta.dimensions;
    data->m = static_cast<uint16>(meta.m);
    data->ef_construction = static_cast<uint16>(meta.ef_construction);
    data->entry_point = meta.entry_point;
    data->entry_level = static_cast<int16>(meta.entry_level);
    data->vector_storage = hnsw_vector_storage(meta.dimensions, meta.m);
    data->insert_block = meta.insert_block;
    data->freed_generation = meta.freed_generation;
    data->build_id = meta.build_id;
    cover_meta_data(page);
}

}  // namespace

void hnsw_create_meta_page(Relation index, ForkNumber fork, const HnswMeta &meta)
{
    Buffer buffer = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
    Assert(BufferGetBlockNumber(buffer) == kHnswMetaBlock);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    if (fork == INIT_FORKNUM) {
        // GenericXLog skips relations that need no WAL, as unlogged ones do, but their init
        // fork must reach replicas and survive a crash: log it whole.
        START_CRIT_SECTION();
        fill_meta_page(BufferGetPage(buffer), meta);
        MarkBufferDirty(buffer);
        log_newpage_buffer(buffer, true);
        END_CRIT_SECTION();
    } else {
        GenericXLogState *state = GenericXLogStart(index);
        fill_meta_page(GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE), meta);
        GenericXLogFinish(state);
    }
    UnlockReleaseBuffer(buffer);
}

uint32 hnsw_update_meta(Relation index, uint32 dimensions, const ItemPointerData *entry_point,
                        int level, bool force_entry, BlockNumber insert_block)
{
    Buffer buffer = ReadBuffer(index, kHnswMetaBlock);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    hnsw_check_page(index, BufferGetPage(buffer), kHnswMetaBlock);
    const HnswMetaData *current = hnsw_meta_data(BufferGetPage(buffer));

    const bool set_dimensions = current->dimensions == 0 && dimensions != 0;
    const bool set_entry = entry_point != nullptr && (force_entry || level > current->entry_level);
    const bool set_insert_block = insert_block != InvalidBlockNumber &&
                                  insert_block != current->insert_block;
    uint32 stored_dimensions = current->dimensions;

    if (set_dimensions || set_entry || set_insert_block) {
        GenericXLogState *state = GenericXLogStart(index);
        HnswMetaData *data = hnsw_meta_data(GenericXLogRegisterBuffer(state, buffer, 0));
        if (set_dimensions) {
            data->dimensions = stored_dimensions = dimensions;
            data->vector_storage = hnsw_vector_storage(dimensions, data->m);
        }
        if (set_entry) {
            data->entry_point = *entry_point;
            data->entry_level = static_cast<int16>(level);
        }
        if (set_insert_block)
            data->insert_block = insert_block;
        GenericXLogFinish(state);
    }
    UnlockReleaseBuffer(buffer);
    return stored_dimensions;
}

void hnsw_advance_freed_generation(Relation index)
{
    Buffer buffer = ReadBuffer(index, kHnswMetaBlock);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    hnsw_check_page(index, BufferGetPage(buffer), kHnswMetaBlock);
    GenericXLogState *state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, 0);
    hnsw_meta_data(page)->freed_generation++;
    cover_meta_data(page);
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

}  // namespace ann::pg
