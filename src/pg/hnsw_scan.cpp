// Index scans: ORDER BY embedding <op> $1 LIMIT k. The first amgettuple runs the whole
// search (greedy descent, then a layer-0 search ef_search wide) and later calls hand out
// the heap rows of the results, nearest first.
#include "pg/hnsw.hpp"

#include <type_traits>

#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw_graph_reader.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
}

namespace ann::pg {

namespace {

static_assert(std::is_trivially_destructible_v<core::ScanSearchState>,
              "the search state lives across calls that may ereport (longjmp)");

struct HnswScanState {
    IndexMetric metric;
    MemoryContext context;  // lives as long as the scan
    core::ScanSearchState search;
    bool search_ready;

    bool searched;
    ItemPointerData *heap_tids;  // results, nearest element first
    uint32 heap_tid_count;
    uint32 heap_tid_capacity;
    uint32 next;
};

// Every row in index order: the answer when the query has no direction to rank by (NULL,
// or a zero vector under cosine), where every distance is NULL or NaN and so ties.
void collect_all(IndexScanDesc scan, HnswScanState &state, const HnswMeta &meta)
{
    HnswGraphReader reader(scan->indexRelation, state.metric, meta.dimensions, meta.m);
    const BlockNumber blocks = RelationGetNumberOfBlocks(scan->indexRelation);
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        Buffer buffer = ReadBuffer(scan->indexRelation, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        hnsw_check_page(scan->indexRelation, page, block);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        UnlockReleaseBuffer(buffer);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            ItemPointerData tid;
            ItemPointerSet(&tid, block, offset);
            state.heap_tid_count = reader.read_heap_tids(hnsw_node_id(&tid), &state.heap_tids,
                                                         state.heap_tid_count, &state.heap_tid_capacity);
        }
    }
    reader.release();
}

void run_search(IndexScanDesc scan, HnswScanState &state)
{
    Relation index = scan->indexRelation;
    const HnswMeta meta = hnsw_read_meta(index);
    if (!ItemPointerIsValid(&meta.entry_point))
        return;

    ScanKey order_by = scan->orderByData;
    if (scan->numberOfOrderBys == 0 || (order_by->sk_flags & SK_ISNULL)) {
        collect_all(scan, state, meta);
        return;
    }
    const Vector *value = datum_get_vector(order_by->sk_argument);
    if (static_cast<uint32>(value->dim) != meta.dimensions)
        report_different_dims(meta.dimensions, value->dim);
    float *query = static_cast<float *>(palloc(sizeof(float) * value->dim));
    memcpy(query, value->x, sizeof(float) * value->dim);
    if (!normalize_for_metric(state.metric, query, value->dim)) {
        collect_all(scan, state, meta);
        return;
    }

    // Sized once per scan; start() grows the pool if a rescan brings a larger ef_search.
    const uint32 ef = static_cast<uint32>(hnsw_ef_search);
    if (!state.search_ready) {
        // Expected marks per layer: about ef expansions, each seeing up to 2m neighbours.
        const uint32 visited_hint = ef * 2 * static_cast<uint32>(meta.m);
        if (state.search.init(palloc_hooks(state.context), ef, visited_hint) != core::HnswStatus::ok)
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw scan")));
        state.search_ready = true;
    }

    HnswGraphReader reader(index, state.metric, meta.dimensions, meta.m);
    if (reader.search(state.search, query, ef, 0, meta)) {
        for (uint32 i = 0; i < state.search.result_count(); i++)
            state.heap_tid_count = reader.read_heap_tids(state.search.result_id(i), &state.heap_tids,
                                                         state.heap_tid_count, &state.heap_tid_capacity);
    }
    reader.release();
    pfree(query);
}

IndexScanDesc begin_scan(Relation index, int nkeys, int norderbys)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto *state = static_cast<HnswScanState *>(palloc0(sizeof(HnswScanState)));
    state->metric = index_metric(index);
    state->context = CurrentMemoryContext;
    scan->opaque = state;
    return scan;
}

void rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    auto &state = *static_cast<HnswScanState *>(scan->opaque);
    if (keys != nullptr && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, sizeof(ScanKeyData) * nkeys);
    if (orderbys != nullptr && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, sizeof(ScanKeyData) * norderbys);
    state.searched = false;
    state.heap_tid_count = 0;
    state.next = 0;
}

bool get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    auto &state = *static_cast<HnswScanState *>(scan->opaque);
    if (!ScanDirectionIsForward(direction))
        elog(ERROR, "hnsw index scans only run forward");

    if (!state.searched) {
        pgstat_count_index_scan(scan->indexRelation);
        MemoryContext old = MemoryContextSwitchTo(state.context);
        run_search(scan, state);
        MemoryContextSwitchTo(old);
        state.searched = true;
    }
    if (state.next >= state.heap_tid_count)
        return false;
    scan->xs_heaptid = state.heap_tids[state.next++];
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return true;
}

void end_scan(IndexScanDesc scan)
{
    auto *state = static_cast<HnswScanState *>(scan->opaque);
    if (state->search_ready)
        state->search.release();
    if (state->heap_tids != nullptr)
        pfree(state->heap_tids);
    pfree(state);
    scan->opaque = nullptr;
}

}  // namespace

IndexScanDesc hnsw_begin_scan(Relation index, int nkeys, int norderbys)
{
    return guarded_call("hnsw scan", [&]() { return begin_scan(index, nkeys, norderbys); });
}

void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    guarded_call("hnsw scan", [&]() { rescan(scan, keys, nkeys, orderbys, norderbys); });
}

bool hnsw_get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    return guarded_call("hnsw scan", [&]() { return get_tuple(scan, direction); });
}

void hnsw_end_scan(IndexScanDesc scan)
{
    guarded_call("hnsw scan", [&]() { end_scan(scan); });
}

}  // namespace ann::pg
