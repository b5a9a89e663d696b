// Index scans: ORDER BY embedding <op> $1 [LIMIT k]. The first amgettuple ranks the centres,
// picks the ivfflat.probes nearest lists, and ranks every row of those lists with the core
// kernel; rows then come out nearest first, one per call. With ivfflat.iterative_scan on, a
// scan whose lists are used up goes on with the next nearest ones, a batch at a time. A scan cannot know its LIMIT, so
// it can hand out every row of the probed lists; the ranked rows are held within work_mem,
// and when there are more, later rows come from further passes over the same lists (see
// core/ivf_candidates.h).
//
// An iterative scan that knows its WHERE clause (scan_filter.hpp) hands out only rows that
// pass it, and probes more lists: the nearest rows that pass a filter with pass rate s lie
// among the nearest 10 / s rows, further out than an unfiltered scan's nearest 10, in lists
// further down the order. The scan estimates s from the nearest rows of its first
// ivfflat.probes lists, checked in order, then probes probes * (1 + 2 log10(1 / s)) lists a
// batch: 3x under a 10% filter, 5x under 1%. Measured on GloVe-100 (200 lists, probes 10)
// that keeps recall above the unfiltered scan's, where probes / s lists (everything under 1%)
// cost up to ten times as much for little more.
#include "pg/ivfflat.hpp"

#include <algorithm>
#include <type_traits>

#include "core/ivf_candidates.h"
#include "core/ivf_kernels.h"
#include "pg/buffer_hints.hpp"
#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/ivfflat_pages.hpp"
#include "pg/scan_filter.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
}

namespace ann::pg {

namespace {

static_assert(std::is_trivially_destructible_v<core::IvfCandidates>,
              "the candidates live across calls that may ereport (longjmp)");

struct IvfflatScanState {
    IndexMetric metric;
    MemoryContext context;  // lives as long as the scan
    MemoryContext query_context;  // reset by every rescan
    core::IvfCandidates candidates;
    bool candidates_ready;

    bool started;
    int dimensions;
    const float *query;  // null: the query has no direction, every row ranks equal
    BlockNumber *list_order;  // first block of every list, nearest centre first
    int list_count;
    int probed_end;    // lists list_order[0 .. probed_end) are probed or being probed
    int probe_limit;   // lists the scan may probe in all
    int batch_begin;   // the lists of the current batch: list_order[batch_begin .. probed_end)
    int batch_lists;   // lists per batch: ivfflat.probes, more under a filter
    float *page_distances;  // one page's rows

    ScanFilter *filter;    // the scan's WHERE clause, when the executor gave it
    bool filtering;        // an iterative scan with a filter: hands out passing rows only
    float distance_limit;  // no row further than this passes the filter
    bool batch_within_limit;  // the current batch ranked a row within distance_limit
};

// The pass rate of a filter is estimated from this many passing rows (or from
// kMaxEstimateChecks rows when fewer pass): enough to tell 10% from 1%.
constexpr uint64 kEstimatePasses = 10;
constexpr uint64 kMaxEstimateChecks = 1000;

uint64 encode_tid(const ItemPointerData *tid)
{
    return (static_cast<uint64>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
           ItemPointerGetOffsetNumberNoCheck(tid);
}

void decode_tid(uint64 id, ItemPointerData *tid)
{
    ItemPointerSet(tid, static_cast<BlockNumber>(id >> 16), static_cast<OffsetNumber>(id & 0xFFFF));
}

struct RankedList {
    float distance;
    int list;
};

// The query as the index ranks it, or null when it has no direction.
const float *prepare_query(IndexScanDesc scan, IvfflatScanState &state)
{
    ScanKey order_by = scan->orderByData;
    if (scan->numberOfOrderBys == 0 || (order_by->sk_flags & SK_ISNULL))
        return nullptr;
    const Vector *value = datum_get_vector(order_by->sk_argument);
    if (value->dim != state.dimensions)
        report_different_dims(state.dimensions, value->dim);
    float *query = static_cast<float *>(palloc(sizeof(float) * value->dim));
    memcpy(query, value->x, sizeof(float) * value->dim);
    return normalize_for_metric(state.metric, query, value->dim) ? query : nullptr;
}

// Ranks the lists by their centres' distance to the query (every list in index order for a
// query without direction) and takes the first ivfflat.probes as the first batch; an
// iterative scan may take more, up to ivfflat.max_probes. Nothing here takes a lock, so the
// cached centres stay valid throughout.
void rank_lists(IndexScanDesc scan, IvfflatScanState &state)
{
    const IvfflatCentres *cache = ivfflat_centres(scan->indexRelation);
    const IvfflatMeta &meta = cache->meta;
    state.list_order = static_cast<BlockNumber *>(palloc(sizeof(BlockNumber) * meta.lists));
    state.list_count = meta.lists;
    state.batch_begin = 0;
    if (state.query == nullptr) {
        memcpy(state.list_order, cache->first_block, sizeof(BlockNumber) * meta.lists);
        state.probed_end = meta.lists;
        state.probe_limit = meta.lists;
        return;
    }
    const int probes = Min(ivfflat_probes, meta.lists);
    const bool iterative = static_cast<IvfflatIterativeScan>(ivfflat_iterative_scan) != IvfflatIterativeScan::off;
    state.probed_end = probes;
    state.batch_lists = Max(probes, 1);
    state.probe_limit = iterative ? Min(Max(ivfflat_max_probes, probes), meta.lists) : probes;

    auto *ranked = static_cast<RankedList *>(palloc(sizeof(RankedList) * meta.lists));
    float *distances = static_cast<float *>(palloc(sizeof(float) * meta.lists));
    if (meta.spherical) {
        core::inner_products(state.query, cache->centres, meta.lists, meta.dimensions, distances);
        for (int l = 0; l < meta.lists; l++)
            distances[l] = -distances[l];
    } else {
        const core::DistanceKernel l2_squared = core::kernels().l2_squared;
        for (int l = 0; l < meta.lists; l++)
            distances[l] = l2_squared(state.query, cache->centres + static_cast<Size>(l) * meta.dimensions,
                                      meta.dimensions);
    }
    for (int l = 0; l < meta.lists; l++) {
        ranked[l].distance = distances[l];
        ranked[l].list = l;
    }
    pfree(distances);
    auto nearer = [](const RankedList &a, const RankedList &b) {
        return a.distance < b.distance || (a.distance == b.distance && a.list < b.list);
    };
    // Only the lists the scan may probe need an order.
    std::partial_sort(ranked, ranked + state.probe_limit, ranked + meta.lists, nearer);
    for (int i = 0; i < state.probe_limit; i++)
        state.list_order[i] = cache->first_block[ranked[i].list];
    pfree(ranked);
}

// Distances from the query to the `rows` vectors of one page, into `out`: for inner product
// and cosine one batched pass over the page's contiguous vectors, for L2 one kernel call per
// row. A query without direction ranks every row at 0.
void rank_page(const IvfflatScanState &state, const float *vectors, int rows, float *out)
{
    const int dim = state.dimensions;
    if (state.query == nullptr) {
        for (int row = 0; row < rows; row++)
            out[row] = 0.0f;
    } else if (state.metric == IndexMetric::l2_squared) {
        const core::DistanceKernel l2_squared = core::kernels().l2_squared;
        for (int row = 0; row < rows; row++)
            out[row] = l2_squared(state.query, vectors + static_cast<Size>(row) * dim, dim);
    } else {
        core::inner_products(state.query, vectors, rows, dim, out);
        for (int row = 0; row < rows; row++)
            out[row] = -out[row];
    }
    for (int row = 0; row < rows; row++) {
        if (std::isnan(out[row]))
            out[row] = std::numeric_limits<float>::infinity();
    }
}

// One pass over the probed lists, offering every row ranked after the last one handed out.
void collect_pass(IndexScanDesc scan, IvfflatScanState &state)
{
    Relation index = scan->indexRelation;
    const int dim = state.dimensions;
    float *distances = state.page_distances;

    bool out_of_memory = false;
    state.candidates.begin_pass();
    for (int l = state.batch_begin; l < state.probed_end; l++) {
        for (BlockNumber block = state.list_order[l]; block != InvalidBlockNumber;) {
            CHECK_FOR_INTERRUPTS();
            Buffer buffer = read_buffer_hinted(index, block);
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buffer);
            ivfflat_check_page(index, page, block);
            const int rows = Min(ivfflat_row_count(page, dim), ivfflat_rows_per_page(dim));
            rank_page(state, ivfflat_row_vector(page, dim, 0), rows, distances);
            for (int row = 0; row < rows; row++) {
                state.batch_within_limit = state.batch_within_limit || distances[row] <= state.distance_limit;
                if (!state.candidates.offer(distances[row], encode_tid(ivfflat_row_heap_tid(page, row)))) {
                    out_of_memory = true;
                    break;
                }
            }
            block = ivfflat_page_opaque(page)->next_block;
            UnlockReleaseBuffer(buffer);
            if (out_of_memory)
                ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in ivfflat scan")));
        }
    }
    state.candidates.end_pass();
}

// An iterative scan whose lists are used up moves on to the next ivfflat.probes nearest
// lists, as long as ivfflat.max_probes allows. Their rows may rank before rows already
// handed out (relaxed order); the candidates forget what was handed out, since the new
// lists hold none of those rows. False when no list is left, or when the query bounds the
// distance and the last batch had no row within the bound: lists further down the order
// hold rows further away.
bool next_batch(IvfflatScanState &state)
{
    const bool bounded = state.distance_limit < std::numeric_limits<float>::infinity();
    if (state.probed_end >= state.probe_limit || (bounded && !state.batch_within_limit))
        return false;
    state.batch_within_limit = false;
    state.batch_begin = state.probed_end;
    state.probed_end = Min(state.probed_end + state.batch_lists, state.probe_limit);
    state.candidates.restart();
    return true;
}

bool row_passes(IndexScanDesc scan, IvfflatScanState &state, float distance, const ItemPointerData *heap_tid)
{
    return distance <= state.distance_limit && scan_filter_passes(state.filter, scan, heap_tid, 1);
}

// Checks the nearest rows of the first batch until kEstimatePasses pass, then widens every
// batch for the pass rate (within ivfflat.max_probes) and ranks the first batch again. The
// rows checked here are checked again as they are handed out.
void widen_for_filter(IndexScanDesc scan, IvfflatScanState &state)
{
    double limit;
    state.distance_limit = scan_filter_distance_limit(state.filter, &limit)
                               ? metric_distance_limit(state.metric, limit)
                               : std::numeric_limits<float>::infinity();
    uint64 checks = 0;
    uint64 passes = 0;
    bool nearest_within_limit = false;
    float distance;
    uint64 id;
    while (passes < kEstimatePasses && checks < kMaxEstimateChecks && state.candidates.pop(&distance, &id)) {
        CHECK_FOR_INTERRUPTS();
        ItemPointerData heap_tid;
        decode_tid(id, &heap_tid);
        if (checks == 0)
            nearest_within_limit = distance <= state.distance_limit;
        checks++;
        passes += row_passes(scan, state, distance, &heap_tid) ? 1 : 0;
    }
    state.candidates.restart();
    // Not even the nearest row of the nearest lists lies within the bound: nothing does.
    if (checks > 0 && !nearest_within_limit) {
        state.probe_limit = state.probed_end;
        return;
    }
    // Nothing passing near the query (a filter on rows far away): every list at once, or
    // the first batches would hand out the few rows they hold before the nearer ones.
    const double pass_rate = checks == 0 ? 1.0 : static_cast<double>(passes) / static_cast<double>(checks);
    const double wanted = passes == 0 && checks > 0 ? state.probe_limit
                                                    : ceil(ivfflat_filtered_probes(state.batch_lists, pass_rate));
    state.batch_lists = static_cast<int>(Min(wanted, static_cast<double>(state.probe_limit)));
    state.batch_lists = Max(state.batch_lists, state.probed_end);
    state.probed_end = state.batch_lists;
    state.batch_within_limit = false;
    collect_pass(scan, state);
}

void start_scan(IndexScanDesc scan, IvfflatScanState &state)
{
    const IvfflatMeta meta = ivfflat_centres(scan->indexRelation)->meta;
    state.dimensions = meta.dimensions;
    if (!state.candidates_ready) {
        const Size budget = static_cast<Size>(work_mem) * 1024;
        const uint32 capacity = static_cast<uint32>(
            Min(budget / sizeof(core::IvfCandidates::Entry), static_cast<Size>(PG_INT32_MAX)));
        if (!state.candidates.init(palloc_hooks(state.context), capacity))
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in ivfflat scan")));
        state.candidates_ready = true;
    }
    state.candidates.restart();
    state.distance_limit = std::numeric_limits<float>::infinity();
    state.batch_within_limit = false;
    state.page_distances = static_cast<float *>(palloc(sizeof(float) * ivfflat_rows_per_page(meta.dimensions)));
    state.query = prepare_query(scan, state);
    rank_lists(scan, state);
    collect_pass(scan, state);
    state.filtering = state.filter != nullptr && state.query != nullptr &&
                      static_cast<IvfflatIterativeScan>(ivfflat_iterative_scan) != IvfflatIterativeScan::off;
    if (state.filtering)
        widen_for_filter(scan, state);
}

IndexScanDesc begin_scan(Relation index, int nkeys, int norderbys)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto *state = static_cast<IvfflatScanState *>(palloc0(sizeof(IvfflatScanState)));
    state->metric = index_metric(index);
    state->context = CurrentMemoryContext;
    state->query_context = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan query", ALLOCSET_DEFAULT_SIZES);
    scan->opaque = state;
    return scan;
}

void rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    auto &state = *static_cast<IvfflatScanState *>(scan->opaque);
    if (keys != nullptr && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, sizeof(ScanKeyData) * nkeys);
    if (orderbys != nullptr && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, sizeof(ScanKeyData) * norderbys);
    state.started = false;
    state.query = nullptr;
    state.list_order = nullptr;
    state.list_count = 0;
    state.probed_end = 0;
    state.probe_limit = 0;
    state.batch_begin = 0;
    state.batch_lists = 0;
    state.page_distances = nullptr;
    state.filtering = false;
    MemoryContextReset(state.query_context);
}

bool get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    auto &state = *static_cast<IvfflatScanState *>(scan->opaque);
    if (!ScanDirectionIsForward(direction))
        elog(ERROR, "ivfflat index scans only run forward");

    if (!state.started) {
        pgstat_count_index_scan(scan->indexRelation);
        MemoryContext old = MemoryContextSwitchTo(state.query_context);
        start_scan(scan, state);
        MemoryContextSwitchTo(old);
        state.started = true;
    }
    float distance;
    uint64 id;
    do {
        while (!state.candidates.pop(&distance, &id)) {
            if (!state.candidates.pass_dropped_rows() && !next_batch(state))
                return false;
            MemoryContext old = MemoryContextSwitchTo(state.query_context);
            collect_pass(scan, state);
            MemoryContextSwitchTo(old);
        }
        decode_tid(id, &scan->xs_heaptid);
        CHECK_FOR_INTERRUPTS();
    } while (state.filtering && !row_passes(scan, state, distance, &scan->xs_heaptid));
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return true;
}

void end_scan(IndexScanDesc scan)
{
    auto *state = static_cast<IvfflatScanState *>(scan->opaque);
    if (state->candidates_ready)
        state->candidates.release();
    if (state->filter != nullptr)
        scan_filter_end(state->filter);
    MemoryContextDelete(state->query_context);
    pfree(state);
    scan->opaque = nullptr;
}

void attach_filter(IndexScanDesc scan, ScanFilter *filter)
{
    static_cast<IvfflatScanState *>(scan->opaque)->filter = filter;
}

}  // namespace

void ivfflat_scan_attach_filter(IndexScanDesc scan, ScanFilter *filter)
{
    guarded_call("ivfflat scan", [&]() { attach_filter(scan, filter); });
}

IndexScanDesc ivfflat_begin_scan(Relation index, int nkeys, int norderbys)
{
    return guarded_call("ivfflat scan", [&]() { return begin_scan(index, nkeys, norderbys); });
}

void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    guarded_call("ivfflat scan", [&]() { rescan(scan, keys, nkeys, orderbys, norderbys); });
}

bool ivfflat_get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    return guarded_call("ivfflat scan", [&]() { return get_tuple(scan, direction); });
}

void ivfflat_end_scan(IndexScanDesc scan)
{
    guarded_call("ivfflat scan", [&]() { end_scan(scan); });
}

}  // namespace ann::pg
