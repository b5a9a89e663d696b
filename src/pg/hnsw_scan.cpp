// Index scans: ORDER BY embedding <op> $1 LIMIT k. The first amgettuple runs the whole
// search (greedy descent, then a layer-0 search ef_search wide) and later calls hand out
// the heap rows of the results, nearest first. With hnsw.iterative_scan on, a scan whose
// results are used up (a filter above it rejected them) resumes the search from the nodes
// layer 0 let go, for the next ef_search results, until hnsw.max_scan_tuples elements
// were visited or its memory passes work_mem * hnsw.scan_mem_multiplier; from then on it
// hands out the nodes it let go, nearest first, without searching further.
//
// Neighbours are ranked by the session's half copies of the vectors where it has them
// (hnsw_vector_cache.hpp); every element handed out is checked against its page and
// re-ranked by its vector there, and each batch is handed out in that order.
//
// A scan that knows its WHERE clause (scan_filter.hpp) searches on past the first results
// for the ef_search nearest elements whose rows pass it (core/filtered_search.h), and hands
// out only those; with an iterative scan, each further batch is the next ef_search passing
// elements. The budget above bounds it the same way.
#include "pg/hnsw.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw_graph_reader.hpp"
#include "pg/scan_filter.hpp"
#include "pg/vector.hpp"
#include "pg/visited_pool.hpp"

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
static_assert(std::is_trivially_destructible_v<core::ScanFilteredSearch>,
              "the filtered search lives across calls that may ereport (longjmp)");

// One element of a batch about to be handed out: its distance in floats, its place in the
// search's order (for ties), and where its rows were gathered.
struct BatchEntry {
    float distance;
    uint32 rank;
    uint32 first_row;
    uint32 row_count;
};

// Gives the visited set's memory back to the session's pool when the scan's memory goes
// without end_scan (an error ended the query).
struct VisitedGuard {
    MemoryContextCallback callback;
    core::ScanSearchState *search;  // null once end_scan gave it back
};

void give_back_visited(void *arg)
{
    auto *guard = static_cast<VisitedGuard *>(arg);
    if (guard->search != nullptr)
        guard->search->release_visited();
}

struct HnswScanState {
    IndexMetric metric;
    MemoryContext context;  // lives as long as the scan
    core::ScanSearchState search;
    VisitedGuard *visited_guard;
    core::SpillHeap<uint64> spill;
    core::ScanFilteredSearch filtered;  // used when `filter` is set
    bool search_ready;
    ScanFilter *filter;            // the scan's WHERE clause, when the executor gave it
    bool filtered_search;          // iterative, with a filter: batches of passing elements
    bool table_fallback;           // the filtered search may give up for the table
    ItemPointerData *check_tids;   // rows of the elements being checked, or of a batch being ordered
    uint32 check_tid_capacity;
    BatchEntry *batch;             // of the batch being ordered
    uint32 batch_capacity;

    // Per (re)scan.
    bool searched;
    HnswIterativeScan mode;  // as set when the scan started
    bool resumable;          // a graph search ran and may go on
    int dimensions;          // of the index, for resumed searches
    int m;
    float *query;            // normalised, for resumed searches
    float last_distance;     // of the last element handed out, for strict order
    HnswVectorCache *cache;  // null when the scan reads vectors from pages only
    uint64 cache_epoch;
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
        if (PageIsNew(page)) {
            UnlockReleaseBuffer(buffer);
            continue;
        }
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

// The query a result's distance is checked against when its rows are read: with the vector
// cache in use, the search ranked half rows, and the element's vector may have changed since.
const float *ranked_by(const HnswScanState &state)
{
    return state.cache != nullptr ? state.query : nullptr;
}

HnswGraphReader scan_reader(IndexScanDesc scan, HnswScanState &state)
{
    HnswGraphReader reader(scan->indexRelation, state.metric, state.dimensions, state.m);
    if (state.cache != nullptr)
        reader.use_cache(state.cache, state.cache_epoch);
    return reader;
}

// Makes room for `count` items in `*items`, dropping what it held.
template <typename T>
void reserve(T **items, uint32 *capacity, uint32 count)
{
    if (count <= *capacity)
        return;
    if (*items != nullptr)
        pfree(*items);
    *items = static_cast<T *>(palloc_extended(sizeof(T) * count, MCXT_ALLOC_HUGE));
    *capacity = count;
}

// Nearer first; NaN, which the search ranks after everything, last; then the search's order.
bool nearer(const BatchEntry &a, const BatchEntry &b)
{
    if (a.distance < b.distance)
        return true;
    if (b.distance < a.distance)
        return false;
    if (std::isnan(a.distance) != std::isnan(b.distance))
        return std::isnan(b.distance);
    return a.rank < b.rank;
}

// The rows of the search's current results become the batch to hand out, ordered by their
// elements' vectors on the page (the search may have ranked them by half rows). Under
// strict order an element nearer than one already handed out is left out.
template <typename Results>
void collect_results(HnswScanState &state, const Results &search, HnswGraphReader &reader)
{
    const uint32 results = search.result_count();
    reserve(&state.batch, &state.batch_capacity, results);
    uint32 rows = 0;
    for (uint32 i = 0; i < results; i++) {
        BatchEntry &entry = state.batch[i];
        entry.rank = i;
        entry.first_row = rows;
        rows = reader.read_heap_tids(search.result_id(i), &state.check_tids, rows, &state.check_tid_capacity,
                                     ranked_by(state), search.result_distance(i), &entry.distance);
        entry.row_count = rows - entry.first_row;
    }
    std::sort(state.batch, state.batch + results, nearer);
    reserve(&state.heap_tids, &state.heap_tid_capacity, rows);
    state.heap_tid_count = 0;
    state.next = 0;
    for (uint32 i = 0; i < results; i++) {
        const BatchEntry &entry = state.batch[i];
        if (entry.row_count == 0 ||
            (state.mode == HnswIterativeScan::strict_order && entry.distance < state.last_distance))
            continue;
        state.last_distance = entry.distance;
        memcpy(state.heap_tids + state.heap_tid_count, state.check_tids + entry.first_row,
               sizeof(ItemPointerData) * entry.row_count);
        state.heap_tid_count += entry.row_count;
    }
}

// Whether the table would be cheaper than the graph is first reviewed after this many
// checks (fewer cannot tell a 1% filter from a 0.1% one), then every kPopsPerCostReview pops.
constexpr uint64 kChecksBeforeCostReview = 512;
constexpr uint32 kPopsPerCostReview = 64;
// A check, with its share of the search (the element's rows fetched and filtered, and some
// six neighbours ranked), costs about as much as reading, filtering and ranking 20 table
// rows: measured as backend CPU time on GloVe-100, 200,000 rows, a 1% filter, with the
// vector cache: 16.5 ms for 3,960 checks (4.2 us each) with the table never read, 43.7 ms
// with it always read (0.21 us a row). Checks in prefetched groups and the table read with
// prefetching made both cheaper, at about the same ratio: 8.8 ms for 3,800 checks (2.3 us),
// 21 ms for the table (0.105 us a row).
constexpr double kCheckCostInTableRows = 20.0;

// How far beyond a cosine limit a search ranking half rows goes on. Cosine ranks unit vectors
// by -(q . v) against a unit query; each value of a half row is within 2^-11 of its own
// magnitude (2^-25 absolute when tiny), so the half distance is within 2^-11 + 2^-25 *
// sqrt(dimensions) of the float one: under 5e-4 up to 16,000 dimensions. Twice that leaves
// room for the two kernels' different float rounding. Rows past the limit that this lets
// through are the executor's to drop: it checks the bound on every row.
constexpr float kCosineHalfMargin = 1.0f / 1024.0f;

// Whether an iterative scan may search on: hnsw.max_scan_tuples visits and the memory
// bound (work_mem * hnsw.scan_mem_multiplier) are not used up.
bool within_budget(const HnswScanState &state)
{
    const double memory = static_cast<double>(state.spill.bytes()) +
                          static_cast<double>(state.search.visited().slot_count()) * sizeof(uint64);
    return state.search.visits() < static_cast<uint64>(hnsw_max_scan_tuples) &&
           memory <= static_cast<double>(work_mem) * 1024.0 * hnsw_scan_mem_multiplier;
}

// Nodes a filtered search has popped and not yet checked against the filter. Their rows
// are checked a group at a time, so that the cache misses of reading them from the table
// overlap (scan_filter_prefetch) instead of following one another: those misses were most
// of a check's cost. The search pops a few nodes more meanwhile than it would with each
// check done at once, as its bound tightens only when a group is checked.
constexpr uint32 kChecksPerGroup = 8;

struct PendingChecks {
    uint64 ids[kChecksPerGroup];
    float distances[kChecksPerGroup];
    uint32 count;
};

// Checks the pending nodes and accepts those whose rows pass. Their vectors are not
// re-ranked from the page here: collect_results does that for every node handed out, and a
// node whose slot took another element since it was ranked belonged to rows all gone.
void check_pending(IndexScanDesc scan, HnswScanState &state, HnswGraphReader &reader, PendingChecks &pending)
{
    uint32 row_start[kChecksPerGroup + 1];
    uint32 rows = 0;
    for (uint32 i = 0; i < pending.count; i++) {
        row_start[i] = rows;
        rows = reader.read_heap_tids(pending.ids[i], &state.check_tids, rows, &state.check_tid_capacity);
    }
    row_start[pending.count] = rows;
    scan_filter_prefetch(state.filter, scan, state.check_tids, rows);
    for (uint32 i = 0; i < pending.count; i++) {
        const uint32 count = row_start[i + 1] - row_start[i];
        if (count > 0 && scan_filter_passes(state.filter, scan, state.check_tids + row_start[i], count))
            state.filtered.accept(pending.ids[i], pending.distances[i]);
    }
    pending.count = 0;
}

// Queues a node to be checked, checking the group once it is full.
void check_later(IndexScanDesc scan, HnswScanState &state, HnswGraphReader &reader, PendingChecks &pending,
                 uint64 id, float distance)
{
    pending.ids[pending.count] = id;
    pending.distances[pending.count++] = distance;
    if (pending.count == kChecksPerGroup)
        check_pending(scan, state, reader, pending);
}

// Whether reading the whole table would now cost less than searching on for the batch's
// missing passing elements, at the pass rate seen so far (one pass more than seen, so that
// a filter nothing has passed yet does not look infinitely dear).
bool table_is_cheaper(IndexScanDesc scan, const HnswScanState &state, uint32 width)
{
    const double passed = static_cast<double>(state.filter->passes);
    const double missing = static_cast<double>(width) - Min(passed, static_cast<double>(width));
    const double pass_rate = (passed + 1.0) / static_cast<double>(state.filter->checks);
    return hnsw_table_is_cheaper(missing, pass_rate, static_cast<double>(scan->heapRelation->rd_rel->reltuples));
}

enum class BatchEnd { complete, table_is_cheaper };

// Nodes a filtered search pops at once, so that reading their links overlaps. One may then
// be expanded that a check of the group before it would have left in the frontier.
constexpr uint32 kExpansionsPerGroup = 4;

// The next ef_search elements whose rows pass the filter, nearest first, into
// state.filtered. The first batch starts with the results of the unfiltered search, which
// are expanded already, and gives up for the exact answer from the table when that is
// cheaper (nothing has been handed out then). Past the budget, nodes are only checked, no
// longer expanded.
BatchEnd run_filtered_batch(IndexScanDesc scan, HnswScanState &state, HnswGraphReader &reader, bool first)
{
    core::ScanFilteredSearch &filtered = state.filtered;
    const uint32 width = static_cast<uint32>(hnsw_ef_search);
    if (filtered.begin_batch(width) != core::HnswStatus::ok)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw scan")));
    PendingChecks pending;
    pending.count = 0;
    if (first) {
        for (uint32 i = 0; i < state.search.result_count(); i++) {
            const float distance = state.search.result_distance(i);
            if (filtered.within_limit(distance))
                check_later(scan, state, reader, pending, state.search.result_id(i), distance);
        }
    }
    uint32 popped = 0;
    for (;;) {
        uint64 nodes[kExpansionsPerGroup];
        float distances[kExpansionsPerGroup];
        uint32 count = 0;
        while (count < kExpansionsPerGroup && filtered.pop(&nodes[count], &distances[count]))
            count++;
        if (count == 0) {
            if (pending.count == 0)
                break;
            // The bound may tighten with the last group, so the search may be done.
            check_pending(scan, state, reader, pending);
            continue;
        }
        if (within_budget(state))
            reader.prefetch_layer0_links(nodes, count);
        for (uint32 i = 0; i < count; i++) {
            CHECK_FOR_INTERRUPTS();
            if (first && state.table_fallback && ++popped % kPopsPerCostReview == 0 &&
                state.filter->checks >= kChecksBeforeCostReview && table_is_cheaper(scan, state, width))
                return BatchEnd::table_is_cheaper;
            // Tested for each node, so that a group does not run past hnsw.max_scan_tuples.
            if (within_budget(state))
                reader.expand(filtered, nodes[i], state.query);
            if (filtered.within_limit(distances[i]))
                check_later(scan, state, reader, pending, nodes[i], distances[i]);
        }
    }
    return BatchEnd::complete;
}

// Hands out every passing row of the table, nearest first, instead of searching on.
void rank_table(IndexScanDesc scan, HnswScanState &state)
{
    RankedRow *rows;
    uint32 count;
    scan_filter_rank_all(state.filter, scan, state.metric, state.query, state.dimensions,
                         state.filtered.distance_limit(), &rows, &count);
    reserve(&state.heap_tids, &state.heap_tid_capacity, count);
    for (uint32 i = 0; i < count; i++)
        state.heap_tids[i] = rows[i].heap_tid;
    pfree(rows);
    state.heap_tid_count = count;
    state.next = 0;
    state.resumable = false;
}

void run_search(IndexScanDesc scan, HnswScanState &state)
{
    Relation index = scan->indexRelation;
    const HnswMeta meta = hnsw_read_meta(index);
    state.cache = nullptr;
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

    state.filtered_search = state.filter != nullptr && state.mode != HnswIterativeScan::off;
    // Sized once per scan; start() grows the pool if a rescan brings a larger ef_search.
    const uint32 ef = static_cast<uint32>(hnsw_ef_search);
    if (!state.search_ready) {
        // Expected marks per layer: about ef expansions, each seeing up to 2m neighbours. A
        // filtered search visits several times that (a 10% filter some 6,500 nodes on
        // GloVe-100 at ef_search 40), and growing the set by doubling cost it 3%.
        uint32 visited_hint = ef * 2 * static_cast<uint32>(meta.m);
        if (state.filtered_search)
            visited_hint = Min(4 * visited_hint, static_cast<uint32>(hnsw_max_scan_tuples));
        state.visited_guard = static_cast<VisitedGuard *>(palloc(sizeof(VisitedGuard)));
        state.visited_guard->search = &state.search;
        state.visited_guard->callback.func = give_back_visited;
        state.visited_guard->callback.arg = state.visited_guard;
        MemoryContextRegisterResetCallback(state.context, &state.visited_guard->callback);
        if (state.search.init(palloc_hooks(state.context), ef, visited_hint, visited_pool_hooks()) !=
            core::HnswStatus::ok)
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw scan")));
        state.spill.init(palloc_hooks(state.context));
        if (state.filtered.init(palloc_hooks(state.context), ef) != core::HnswStatus::ok)
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw scan")));
        state.search_ready = true;
    }
    state.table_fallback = state.filtered_search && IsMVCCSnapshot(scan->xs_snapshot) &&
                           scan_filter_can_rank_all(scan->heapRelation, index);
    state.search.spill_into(state.mode != HnswIterativeScan::off ? &state.spill : nullptr);

    state.dimensions = static_cast<int>(meta.dimensions);
    state.m = meta.m;
    // A search that stops at a distance compares distances with the limit, which half rows
    // could miss by their rounding: it reads floats from the pages, except under cosine,
    // whose half distances have a known bound (kCosineHalfMargin).
    double limit;
    const bool limited = state.filtered_search && scan_filter_distance_limit(state.filter, &limit);
    state.cache = limited && state.metric != IndexMetric::cosine ? nullptr : hnsw_vector_cache(index, meta);
    if (state.cache != nullptr)
        state.cache_epoch = state.cache->epoch;
    HnswGraphReader reader = scan_reader(scan, state);
    if (reader.search(state.search, state.query, ef, 0, meta)) {
        state.resumable = state.mode != HnswIterativeScan::off;
        if (!state.filtered_search) {
            collect_results(state, state.search, reader);
        } else {
            state.filtered.attach(&state.search, &state.spill);
            if (limited) {
                const float internal = metric_distance_limit(state.metric, limit);
                state.filtered.limit_distance(state.cache != nullptr ? internal + kCosineHalfMargin : internal, ef);
            }
            // The pass rate of this search alone decides on the table: a rescan (a nested
            // loop) may bring another filter value.
            state.filter->checks = 0;
            state.filter->passes = 0;
            if (run_filtered_batch(scan, state, reader, true) == BatchEnd::complete)
                collect_results(state, state.filtered, reader);
            else
                rank_table(scan, state);
        }
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
    HnswGraphReader reader = scan_reader(scan, state);
    if (state.filtered_search) {
        run_filtered_batch(scan, state, reader, false);
        collect_results(state, state.filtered, reader);
        reader.release();
        state.resumable = state.filtered.result_count() > 0;
        return state.resumable;
    }
    const bool search_on = within_budget(state);
    if (!state.search.resume(static_cast<uint32>(hnsw_ef_search))) {
        reader.release();
        state.resumable = false;
        return false;
    }
    if (search_on)
        reader.run(state.search, state.query);
    collect_results(state, state.search, reader);
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
        state->visited_guard->search = nullptr;
        state->spill.release();
        state->filtered.release();
    }
    if (state->filter != nullptr)
        scan_filter_end(state->filter);
    if (state->check_tids != nullptr)
        pfree(state->check_tids);
    if (state->batch != nullptr)
        pfree(state->batch);
    if (state->query != nullptr)
        pfree(state->query);
    if (state->heap_tids != nullptr)
        pfree(state->heap_tids);
    pfree(state);
    scan->opaque = nullptr;
}

void attach_filter(IndexScanDesc scan, ScanFilter *filter)
{
    static_cast<HnswScanState *>(scan->opaque)->filter = filter;
}

}  // namespace

bool hnsw_table_is_cheaper(double missing, double pass_rate, double table_rows)
{
    return table_rows >= 0 && missing / pass_rate * kCheckCostInTableRows > table_rows;
}

void hnsw_scan_attach_filter(IndexScanDesc scan, ScanFilter *filter)
{
    guarded_call("hnsw scan", [&]() { attach_filter(scan, filter); });
}

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
