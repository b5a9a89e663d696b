// Inserting one row into a built index: the row joins the list of its nearest centre, on the
// first page of the list's chain with room from the list's insert page on, or on a new page
// linked at the chain's end. Every page change is one GenericXLog record.
//
// Concurrency: at most two buffers are locked at once, the chain's last page and the page
// being added after it, and the relation extension lock is only taken while holding the
// former; its holders never wait for a buffer lock, so inserts, scans and VACUUM cannot
// deadlock. Holding the last page while extending also means one list grows by one page
// at a time. List tuples are locked alone, to move the insert page hint.
#include "pg/ivfflat.hpp"

#include "core/kmeans.h"
#include "pg/guard.hpp"
#include "pg/ivfflat_pages.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
}

namespace ann::pg {

namespace {

// Adds the row to the list whose insert page is `insert_block`; returns the page it went to.
BlockNumber add_to_list(Relation index, int dim, BlockNumber insert_block, const float *vector,
                        ItemPointer heap_tid)
{
    BlockNumber block = insert_block;
    for (;;) {
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        ivfflat_check_page(index, page, block);
        if (ivfflat_page_has_room(page, dim)) {
            GenericXLogState *state = GenericXLogStart(index);
            ivfflat_page_add_row(GenericXLogRegisterBuffer(state, buffer, 0), dim, vector, heap_tid);
            GenericXLogFinish(state);
            UnlockReleaseBuffer(buffer);
            return block;
        }
        const BlockNumber next = ivfflat_page_opaque(page)->next_block;
        if (next != InvalidBlockNumber) {
            UnlockReleaseBuffer(buffer);
            block = next;
            continue;
        }

        LockRelationForExtension(index, ExclusiveLock);
        Buffer added = ReadBuffer(index, P_NEW);
        LockBuffer(added, BUFFER_LOCK_EXCLUSIVE);
        UnlockRelationForExtension(index, ExclusiveLock);
        const BlockNumber added_block = BufferGetBlockNumber(added);

        GenericXLogState *state = GenericXLogStart(index);
        Page added_page = GenericXLogRegisterBuffer(state, added, GENERIC_XLOG_FULL_IMAGE);
        ivfflat_init_page(added_page, kIvfflatPageData);
        ivfflat_page_add_row(added_page, dim, vector, heap_tid);
        ivfflat_page_opaque(GenericXLogRegisterBuffer(state, buffer, 0))->next_block = added_block;
        GenericXLogFinish(state);
        UnlockReleaseBuffer(added);
        UnlockReleaseBuffer(buffer);
        return added_block;
    }
}

bool insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid)
{
    if (isnull[0])
        return false;
    MemoryContext insert_context = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert",
                                                         ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(insert_context);

    const IvfflatCentres *cache = ivfflat_centres(index);
    const IvfflatMeta meta = cache->meta;
    const Vector *value = datum_get_vector(values[0]);
    if (value->dim != meta.dimensions)
        report_unexpected_dim(meta.dimensions, value->dim);
    float *vector = static_cast<float *>(palloc(sizeof(float) * meta.dimensions));
    memcpy(vector, value->x, sizeof(float) * meta.dimensions);
    if (normalize_for_metric(index_metric(index), vector, meta.dimensions)) {
        cache = ivfflat_centres(index);  // detoasting or index_metric may have reset the relcache entry
        const uint32 list = core::nearest_centre(cache->centres, cache->norms, static_cast<uint32>(meta.lists),
                                                 static_cast<uint32>(meta.dimensions), meta.spherical, vector);
        const ItemPointerData location = cache->location[list];
        const BlockNumber insert_block = ivfflat_read_insert_block(index, location);
        const BlockNumber block = add_to_list(index, meta.dimensions, insert_block, vector, heap_tid);
        if (block != insert_block)
            ivfflat_set_insert_block(index, location, block);
    }

    MemoryContextSwitchTo(old);
    MemoryContextDelete(insert_context);
    return false;
}

}  // namespace

bool ivfflat_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation,
                    IndexUniqueCheck, bool, IndexInfo *)
{
    return guarded_call("ivfflat insert", [&]() { return insert(index, values, isnull, heap_tid); });
}

}  // namespace ann::pg
