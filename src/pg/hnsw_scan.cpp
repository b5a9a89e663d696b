// Index scans: ORDER BY embedding <op> $1 LIMIT k. The first amgettuple runs the whole
// search (greedy descent, then a layer-0 search ef_search wide) and later calls hand out
// the heap rows of the results, nearest first. With hnsw.iterative_scan on, a scan whose
// results are used up (a filter above it rejected them) resumes the search from the nodes
// layer 0 let go, for the next ef_search results, until hnsw.max_scan_tuples elements
// were visited or its memory passes work_mem * hnsw.scan_mem_multiplier; from then on it
// hands out the nodes it let go, nearest first, without searching further.
#include "pg/hnsw.hpp"

#include <limits>
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
static_assert(std::is_trivially_destructible_v<core::SpillHeap<uint64>>,
              "the spill heap lives across calls that may ereport (longjmp)");

struct HnswScanState {
    IndexMetric metric;
    MemoryContext context;  // lives as long as the scan
    core::ScanSearchState search;
    core::SpillHeap<uint64> spill;
    bool search_ready;

    // Per (re)scan.
    bool searched;
    HnswIterativeScan mode;  // as set when the scan started
    bool resumable;          // a graph search ran and may go on
    int dimensions;          // of the index, for resumed searches
    int m;
    float *query;            // normalised, for resumed searches
    float last_distance;     // of the last element handed out, for strict order
    ItemPointerData *heap_tids;  // rows of the current batch, nearest element first
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

// The rows of the search's current results become the batch to hand out. Under strict
// order an element nearer than one already handed out is left out.
void collect_results(HnswScanState &state, HnswGraphReader &reader)
{
    state.heap_tid_count = 0;
    state.next = 0;
    const core::ScanSearchState &search = state.search;
    for (uint32 i = 0; i < search.result_count(); i++) {
        if (state.mode == HnswIterativeScan::strict_order && search.result_distance(i) < state.last_distance)
            continue;
        state.last_distance = search.result_distance(i);
        state.heap_tid_count = reader.read_heap_tids(search.result_id(i), &state.heap_tids,
                                                     state.heap_tid_count, &state.heap_tid_capacity);
    }
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
    if (state.query != nullptr)
        pfree(state.query);
    state.query = static_cast<float *>(palloc(sizeof(float) * value->dim));
    memcpy(state.query, value->x, sizeof(float) * value->dim);
    if (!normalize_for_metric(state.metric, state.query, value->dim)) {
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
        state.spill.init(palloc_hooks(state.context));
        state.search_ready = true;
    }
    state.search.spill_into(state.mode == HnswIterativeScan::off ? nullptr : &state.spill);

    HnswGraphReader reader(index, state.metric, meta.dimensions, meta.m);
    if (reader.search(state.search, state.query, ef, 0, meta)) {
        collect_results(state, reader);
        state.resumable = state.mode != HnswIterativeScan::off;
        state.dimensions = static_cast<int>(meta.dimensions);
        state.m = meta.m;
    }
    reader.release();
}

// The next batch of an iterative scan: the search goes on from the nearest nodes it let go.
// Past the budget (hnsw.max_scan_tuples visits, or the memory bound) those nodes are handed
// out as they are, nearest first, with no further search, as pgvector does: they were seen
// and ranked already, and a filter may still want them. False when nothing is left.
bool resume_search(IndexScanDesc scan, HnswScanState &state)
{
    if (!state.resumable)
        return false;
    const double memory = static_cast<double>(state.spill.bytes()) +
                          static_cast<double>(state.search.visited().slot_count()) * sizeof(uint64);
    const bool within_budget = state.search.visits() < static_cast<uint64>(hnsw_max_scan_tuples) &&
                               memory <= static_cast<double>(work_mem) * 1024.0 * hnsw_scan_mem_multiplier;
    if (!state.search.resume(static_cast<uint32>(hnsw_ef_search))) {
        state.resumable = false;
        return false;
    }
    HnswGraphReader reader(scan->indexRelation, state.metric, state.dimensions, state.m);
    if (within_budget)
        reader.run(state.search, state.query);
    collect_results(state, reader);
    reader.release();
    return true;
}

IndexScanDesc begin_scan(Relation index, int nkeys, int norderbys)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto *state = static_cast<HnswScanState *>(palloc0(sizeof(HnswScanState)));
    state->metric = index_metric(index);
    state->context = CurrentMemoryContext;
    state->last_distance = -std::numeric_limits<float>::infinity();
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
    state.resumable = false;
    state.last_distance = -std::numeric_limits<float>::infinity();
    state.heap_tid_count = 0;
    state.next = 0;
}

bool get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    auto &state = *static_cast<HnswScanState *>(scan->opaque);
    if (!ScanDirectionIsForward(direction))
        elog(ERROR, "hnsw index scans only run forward");

    MemoryContext old = MemoryContextSwitchTo(state.context);
    if (!state.searched) {
        pgstat_count_index_scan(scan->indexRelation);
        state.mode = static_cast<HnswIterativeScan>(hnsw_iterative_scan);
        run_search(scan, state);
        state.searched = true;
    }
    while (state.next >= state.heap_tid_count) {
        if (!resume_search(scan, state)) {
            MemoryContextSwitchTo(old);
            return false;
        }
    }
    MemoryContextSwitchTo(old);
    scan->xs_heaptid = state.heap_tids[state.next++];
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return true;
}

void end_scan(IndexScanDesc scan)
{
    auto *state = static_cast<HnswScanState *>(scan->opaque);
    if (state->search_ready) {
        state->search.release();
        state->spill.release();
    }
    if (state->query != nullptr)
        pfree(state->query);
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
