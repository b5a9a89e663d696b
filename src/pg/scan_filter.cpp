#include "pg/scan_filter.hpp"

#include <algorithm>
#include <limits>

#include "pg/buffer_hints.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw.hpp"
#include "pg/ivfflat.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/stratnum.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/restrictinfo.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace ann::pg {

namespace {

ExecutorStart_hook_type previous_executor_start = nullptr;

using AttachFilter = void (*)(IndexScanDesc scan, ScanFilter *filter);

// How an index of ours takes a filter; null for indexes that cannot use one.
AttachFilter filter_taker(Relation index)
{
    if (index->rd_indam->amgettuple == hnsw_get_tuple)
        return hnsw_scan_attach_filter;
    if (index->rd_indam->amgettuple == ivfflat_get_tuple)
        return ivfflat_scan_attach_filter;
    return nullptr;
}

// Whether `clause` bounds `distance` from above by an expression that does not depend on the
// row: `distance < limit`, `distance <= limit`, `limit > distance` or `limit >= distance`.
bool is_distance_limit(Node *clause, Expr *distance, Expr **limit)
{
    if (!IsA(clause, OpExpr) || list_length(castNode(OpExpr, clause)->args) != 2)
        return false;
    auto *op = castNode(OpExpr, clause);
    const bool distance_first = equal(linitial(op->args), distance);
    if (!distance_first && !equal(lsecond(op->args), distance))
        return false;
    auto *other = static_cast<Expr *>(distance_first ? lsecond(op->args) : linitial(op->args));
    const Oid other_type = exprType(reinterpret_cast<Node *>(other));
    if (other_type != FLOAT8OID && other_type != FLOAT4OID)
        return false;
    if (contain_var_clause(reinterpret_cast<Node *>(other)))
        return false;
    ListCell *cell;
    foreach (cell, get_op_btree_interpretation(op->opno)) {
        const auto *meaning = static_cast<OpBtreeInterpretation *>(lfirst(cell));
        // With the operands swapped, < reads as > and <= as >=.
        const int strategy = distance_first ? meaning->strategy : BTMaxStrategyNumber + 1 - meaning->strategy;
        if (strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber) {
            *limit = other;
            return true;
        }
    }
    return false;
}

// Splits the scan's qual into a limit on the distance it orders by, which the access method
// tests itself, and the rest, which it tests against table rows.
void init_filter_qual(IndexScanState *node, ScanFilter *filter)
{
    const auto *plan = reinterpret_cast<const IndexScan *>(node->ss.ps.plan);
    filter->qual = node->ss.ps.qual;
    if (plan->indexorderbyorig == NIL)
        return;
    auto *distance = static_cast<Expr *>(linitial(plan->indexorderbyorig));
    List *clauses = plan->scan.plan.qual;
    ListCell *cell;
    foreach (cell, clauses) {
        Expr *limit;
        if (is_distance_limit(static_cast<Node *>(lfirst(cell)), distance, &limit)) {
            // The bound may be a row-level security policy, which the qual's order puts
            // before any leaky function (one that may reveal its arguments): the index
            // tests the bound with some tolerance, so such a qual keeps the bound, in place.
            List *rest = list_delete_ptr(list_copy(clauses), lfirst(cell));
            filter->qual = ExecInitQual(contain_leaked_vars(reinterpret_cast<Node *>(rest)) ? clauses : rest,
                                        &node->ss.ps);
            filter->distance_limit = ExecInitExpr(limit, &node->ss.ps);
            filter->limit_type = exprType(reinterpret_cast<Node *>(limit));
            return;
        }
    }
}

// Begins the scan descriptor as IndexNext would on the first fetch (it skips that step for a
// descriptor that exists), so that the index holds its filter before the first row.
void attach_filter(IndexScanState *node, AttachFilter attach)
{
    EState *estate = node->ss.ps.state;
    MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
    auto *filter = static_cast<ScanFilter *>(palloc0(sizeof(ScanFilter)));
    init_filter_qual(node, filter);
    filter->context = CreateExprContext(estate);
    filter->slot = table_slot_create(node->ss.ss_currentRelation, &estate->es_tupleTable);
    IndexScanDesc scan = index_beginscan(node->ss.ss_currentRelation, node->iss_RelationDesc,
                                         estate->es_snapshot, node->iss_NumScanKeys,
                                         node->iss_NumOrderByKeys);
    node->iss_ScanDesc = scan;
    attach(scan, filter);
    if (node->iss_NumRuntimeKeys == 0 || node->iss_RuntimeKeysReady)
        index_rescan(scan, node->iss_ScanKeys, node->iss_NumScanKeys, node->iss_OrderByKeys,
                     node->iss_NumOrderByKeys);
    MemoryContextSwitchTo(old);
}

bool attach_filters(PlanState *planstate, void *context)
{
    if (planstate == nullptr)
        return false;
    if (IsA(planstate, IndexScanState)) {
        auto *node = reinterpret_cast<IndexScanState *>(planstate);
        // No index relation: EXPLAIN without ANALYZE. A parallel-aware scan gets its
        // descriptor from shared memory.
        if (node->iss_RelationDesc != nullptr && node->iss_ScanDesc == nullptr &&
            node->ss.ps.qual != nullptr && !planstate->plan->parallel_aware &&
            scan_filter_applies(planstate->plan->qual)) {
            if (AttachFilter attach = filter_taker(node->iss_RelationDesc))
                attach_filter(node, attach);
        }
    }
#if PG_VERSION_NUM >= 160000
    return planstate_tree_walker(planstate, attach_filters, context);
#else
    // The walker parameter is an unprototyped C function pointer; void (*)() is the type
    // through which such casts are allowed without a warning.
    return planstate_tree_walker(
        planstate, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(attach_filters)), context);
#endif
}

void executor_start(QueryDesc *query, int eflags)
{
    if (previous_executor_start != nullptr)
        previous_executor_start(query, eflags);
    else
        standard_ExecutorStart(query, eflags);
    if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
        guarded_call("ExecutorStart", [&]() { attach_filters(query->planstate, nullptr); });
}

}  // namespace

bool scan_filter_applies(List *clauses)
{
    Node *qual = reinterpret_cast<Node *>(clauses);
    return clauses != NIL && !contain_volatile_functions(qual) && !contain_subplans(qual);
}

List *scan_filter_planned(RelOptInfo *rel, double *selectivity)
{
    *selectivity = Min(1.0, rel->rows / Max(rel->tuples, 1.0));
    List *clauses = extract_actual_clauses(rel->baserestrictinfo, false);
    return scan_filter_applies(clauses) ? clauses : NIL;
}

bool scan_filter_distance_limit(ScanFilter *filter, double *limit)
{
    if (filter->distance_limit == nullptr)
        return false;
    bool is_null;
    const Datum value = ExecEvalExprSwitchContext(filter->distance_limit, filter->context, &is_null);
    if (is_null)
        *limit = -std::numeric_limits<double>::infinity();
    else
        *limit = filter->limit_type == FLOAT4OID ? DatumGetFloat4(value) : DatumGetFloat8(value);
    ResetExprContext(filter->context);
    return true;
}

void scan_filter_init()
{
    previous_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = executor_start;
}

namespace {

// The version of the row at `tid` that the scan's snapshot sees, into the filter's slot, as
// heapam_index_fetch_tuple finds it but through the buffer hints, and without its
// opportunistic pruning of each page it enters: a filtered scan checks rows scattered over
// the table, one or two per page, and those two steps took more than a tenth of a 1% filter's
// scan on GloVe-100. False when no version is visible.
bool fetch_heap_row(ScanFilter *filter, IndexScanDesc scan, ItemPointerData tid)
{
    Relation heap = scan->heapRelation;
    Buffer buffer = read_buffer_hinted(heap, ItemPointerGetBlockNumber(&tid), HintedRelation::table);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    // The slot keeps a pointer to the tuple header it is given, so it must be the slot's own.
    HeapTuple tuple = &reinterpret_cast<BufferHeapTupleTableSlot *>(filter->slot)->base.tupdata;
    bool all_dead = false;
    const bool found = heap_hot_search_buffer(&tid, heap, buffer, scan->xs_snapshot, tuple, &all_dead, true);
    if (found)
        ExecStoreBufferHeapTuple(tuple, filter->slot, buffer);
    LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
    ReleaseBuffer(buffer);
    return found;
}

// Whether rows can be read by fetch_heap_row: the table is a heap, read into a buffer slot.
bool reads_heap_directly(const ScanFilter *filter, IndexScanDesc scan)
{
    return scan->heapRelation->rd_tableam == GetHeapamTableAmRoutine() && TTS_IS_BUFFERTUPLE(filter->slot);
}

// Reads a row's header and its last cache line (where columns stored after a vector lie)
// early, through its line pointer on a page read unlocked: a guess, bounded first.
void touch_row(Page page, OffsetNumber offset)
{
    const ItemIdData item = *PageGetItemId(page, offset);
    const Size start = ItemIdGetOffset(&item);
    const Size length = ItemIdGetLength(&item);
    if (!ItemIdIsNormal(&item) || length == 0 || start + length > BLCKSZ)
        return;
    touch_buffer_line(static_cast<const char *>(page) + start);
    touch_buffer_line(static_cast<const char *>(page) + start + length - 1);
}

}  // namespace

bool scan_filter_passes(ScanFilter *filter, IndexScanDesc scan, const ItemPointerData *heap_tids,
                        uint32 count)
{
    filter->checks++;
    if (filter->qual == nullptr) {
        filter->passes += count > 0 ? 1 : 0;
        return count > 0;
    }
    const bool direct = reads_heap_directly(filter, scan);
    if (!direct && filter->fetch == nullptr)
        filter->fetch = table_index_fetch_begin(scan->heapRelation);
    ExprContext *context = filter->context;
    bool passed = false;
    for (uint32 i = 0; i < count && !passed; i++) {
        ItemPointerData tid = heap_tids[i];
        bool call_again = false;
        const bool fetched = direct ? fetch_heap_row(filter, scan, tid)
                                    : table_index_fetch_tuple(filter->fetch, &tid, scan->xs_snapshot,
                                                              filter->slot, &call_again, nullptr);
        if (!fetched)
            continue;
        context->ecxt_scantuple = filter->slot;
        passed = ExecQual(filter->qual, context);
        ResetExprContext(context);
        ExecClearTuple(filter->slot);
    }
    filter->passes += passed ? 1 : 0;
    return passed;
}

void scan_filter_prefetch(ScanFilter *filter, IndexScanDesc scan, const ItemPointerData *heap_tids, uint32 count)
{
    if (filter->qual == nullptr || !reads_heap_directly(filter, scan))
        return;
    // Two rounds: the line pointers, then the rows they point at. The pages are read
    // unlocked, as guesses (buffer_hints.hpp): every offset is bounded before use.
    constexpr uint32 kMaxRows = 64;
    Page pages[kMaxRows];
    count = Min(count, kMaxRows);
    for (uint32 i = 0; i < count; i++) {
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&heap_tids[i]);
        pages[i] = offset >= FirstOffsetNumber && offset <= MaxHeapTuplesPerPage
                       ? prefetch_hinted_page(scan->heapRelation, ItemPointerGetBlockNumber(&heap_tids[i]),
                                              HintedRelation::table)
                       : nullptr;
        if (pages[i] != nullptr)
            touch_buffer_line(PageGetItemId(pages[i], offset));
    }
    for (uint32 i = 0; i < count; i++) {
        if (pages[i] != nullptr)
            touch_row(pages[i], ItemPointerGetOffsetNumber(&heap_tids[i]));
    }
}

bool scan_filter_can_rank_all(Relation heap, Relation index)
{
    return heap->rd_tableam == GetHeapamTableAmRoutine() && index->rd_index->indkey.values[0] != 0 &&
           RelationGetIndexPredicate(index) == NIL;
}

namespace {

// The root line pointers of one heap page's update chains, by offset, once needed.
struct PageRoots {
    BlockNumber block;  // whose roots `offsets` holds; InvalidBlockNumber for none yet
    OffsetNumber offsets[MaxHeapTuplesPerPage];
};

// The TID an index holds for the row version a table scan returned in `slot`. An index entry
// points at the root of the row's update chain; a version updated in place (HOT) is a
// heap-only tuple further down the chain, where an index fetch would find nothing.
ItemPointerData indexed_tid(TupleTableSlot *slot, PageRoots &roots)
{
    Assert(TTS_IS_BUFFERTUPLE(slot));
    auto *buffer_slot = reinterpret_cast<BufferHeapTupleTableSlot *>(slot);
    ItemPointerData tid = slot->tts_tid;
    if (!HeapTupleIsHeapOnly(buffer_slot->base.tuple))
        return tid;
    const BlockNumber block = ItemPointerGetBlockNumber(&tid);
    if (roots.block != block) {
        LockBuffer(buffer_slot->buffer, BUFFER_LOCK_SHARE);
        heap_get_root_tuples(BufferGetPage(buffer_slot->buffer), roots.offsets);
        LockBuffer(buffer_slot->buffer, BUFFER_LOCK_UNLOCK);
        roots.block = block;
    }
    // Every visible version lies on a chain: the table scan holds the page's pin, so no
    // pruning can cut it meanwhile.
    const OffsetNumber root = roots.offsets[ItemPointerGetOffsetNumber(&tid) - 1];
    Assert(OffsetNumberIsValid(root));
    if (OffsetNumberIsValid(root))
        ItemPointerSetOffsetNumber(&tid, root);
    return tid;
}

// Ranking the table is bound by memory latency: a filter on a column stored after the
// vector reads a second cache line of every row, each a miss (a sequential scan of
// 200,000 GloVe rows took 39 ms with such a filter, 17 ms with one on a column before the
// vector). So while the scan reads one page, it loads the line pointers of the page two
// ahead and the first and last cache line of every row on the next one, found in the
// buffers where this backend last saw those pages (buffer_hints.hpp), by reads whose values
// are dropped (touch_buffer_line: prefetch instructions gained nothing there). A guess that
// is wrong only wastes those reads: the page may hold anything by now, so every offset read
// from it is bounded first. Measured on the same table: 0.1% filter, 23.5 -> 11.3 ms a
// query, with the reads in place of prefetches.
void prefetch_pages_ahead(Relation heap, BlockNumber block)
{
    if (Page later = prefetch_hinted_page(heap, block + 2, HintedRelation::table))
        touch_buffer_line(static_cast<const char *>(later) + 64);
    Page next = prefetch_hinted_page(heap, block + 1, HintedRelation::table);
    if (next == nullptr)
        return;
    const OffsetNumber max_offset = Min(PageGetMaxOffsetNumber(next), MaxHeapTuplesPerPage);
    for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++)
        touch_row(next, offset);
}

// The rows of a locked heap page the snapshot sees, by the rules of a sequential scan's
// page-at-a-time reading (heapgetpage): on a page marked all-visible, outside recovery,
// every one; else those the snapshot's visibility test passes. Each is reported to the
// serializable conflict check, as there.
uint32 visible_offsets(Relation heap, Buffer buffer, BlockNumber block, Snapshot snapshot, OffsetNumber *offsets)
{
    Page page = BufferGetPage(buffer);
    const bool all_visible = PageIsAllVisible(page) && !snapshot->takenDuringRecovery;
    // The check costs a call per row, and does nothing outside serializable transactions.
    const bool serializable = IsolationIsSerializable();
    const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
    uint32 count = 0;
    for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
        const ItemId item = PageGetItemId(page, offset);
        if (!ItemIdIsNormal(item))
            continue;
        HeapTupleData tuple;
        tuple.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, item));
        tuple.t_len = ItemIdGetLength(item);
        tuple.t_tableOid = RelationGetRelid(heap);
        ItemPointerSet(&tuple.t_self, block, offset);
        const bool seen = all_visible || HeapTupleSatisfiesVisibility(&tuple, snapshot, buffer);
        if (serializable)
            HeapCheckForSerializableConflictOut(seen, heap, &tuple, buffer, snapshot);
        if (seen)
            offsets[count++] = offset;
    }
    return count;
}

}  // namespace

void scan_filter_rank_all(ScanFilter *filter, IndexScanDesc scan, IndexMetric metric, const float *query,
                          int dim, float distance_limit, RankedRow **rows, uint32 *count)
{
    Relation heap = scan->heapRelation;
    Snapshot snapshot = scan->xs_snapshot;
    const AttrNumber column = scan->indexRelation->rd_index->indkey.values[0];
    ExprContext *context = filter->context;
    TupleTableSlot *slot = filter->slot;
    Assert(TTS_IS_BUFFERTUPLE(slot) && IsMVCCSnapshot(snapshot));
    // The slot keeps a pointer to the tuple header it is given, so it must be the slot's own.
    HeapTuple tuple = &reinterpret_cast<BufferHeapTupleTableSlot *>(slot)->base.tupdata;
    uint32 capacity = 1024;
    *rows = static_cast<RankedRow *>(palloc(sizeof(RankedRow) * capacity));
    *count = 0;
    float *vector = static_cast<float *>(palloc(sizeof(float) * dim));
    auto *roots = static_cast<PageRoots *>(palloc(sizeof(PageRoots)));
    roots->block = InvalidBlockNumber;
    auto *visible = static_cast<OffsetNumber *>(palloc(sizeof(OffsetNumber) * MaxHeapTuplesPerPage));
    // As a sequential scan would: the whole relation is read, and a big one through a ring
    // of buffers, so that it does not push everything else out of shared_buffers.
    PredicateLockRelation(heap, snapshot);
    pgstat_count_heap_scan(heap);
    const BlockNumber blocks = RelationGetNumberOfBlocks(heap);
    BufferAccessStrategy strategy =
        blocks > static_cast<BlockNumber>(NBuffers / 4) ? GetAccessStrategy(BAS_BULKREAD) : nullptr;
    for (BlockNumber block = 0; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        Buffer buffer = strategy != nullptr
                            ? ReadBufferExtended(heap, MAIN_FORKNUM, block, RBM_NORMAL, strategy)
                            : read_buffer_hinted(heap, block, HintedRelation::table);
        if (strategy == nullptr)
            prefetch_pages_ahead(heap, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
#if PG_VERSION_NUM < 170000
        TestForOldSnapshot(snapshot, heap, BufferGetPage(buffer));
#endif
        const uint32 visible_count = visible_offsets(heap, buffer, block, snapshot, visible);
        LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
        Page page = BufferGetPage(buffer);
        for (uint32 i = 0; i < visible_count; i++) {
            const ItemId item = PageGetItemId(page, visible[i]);
            tuple->t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, item));
            tuple->t_len = ItemIdGetLength(item);
            tuple->t_tableOid = RelationGetRelid(heap);
            ItemPointerSet(&tuple->t_self, block, visible[i]);
            pgstat_count_heap_getnext(heap);
            ExecStoreBufferHeapTuple(tuple, slot, buffer);
            context->ecxt_scantuple = slot;
            MemoryContext old = MemoryContextSwitchTo(context->ecxt_per_tuple_memory);
            bool keep = filter->qual == nullptr || ExecQual(filter->qual, context);
            if (keep) {
                bool is_null;
                const Datum value = slot_getattr(slot, column, &is_null);
                const Vector *row_vector = is_null ? nullptr : datum_get_vector(value);
                keep = row_vector != nullptr && row_vector->dim == dim;
                if (keep) {
                    memcpy(vector, row_vector->x, sizeof(float) * dim);
                    keep = normalize_for_metric(metric, vector, dim);
                }
            }
            MemoryContextSwitchTo(old);
            ResetExprContext(context);
            const float distance = keep ? metric_distance(metric, query, vector, dim) : 0.0f;
            if (!keep || !(distance <= distance_limit))
                continue;
            if (*count == capacity) {
                capacity *= 2;
                *rows = static_cast<RankedRow *>(repalloc_huge(*rows, sizeof(RankedRow) * capacity));
            }
            (*rows)[(*count)++] = RankedRow{distance, indexed_tid(slot, *roots)};
        }
        ExecClearTuple(slot);
        ReleaseBuffer(buffer);
    }
    if (strategy != nullptr)
        FreeAccessStrategy(strategy);
    pfree(vector);
    pfree(roots);
    pfree(visible);
    std::sort(*rows, *rows + *count, [](const RankedRow &a, const RankedRow &b) {
        return a.distance < b.distance;
    });
}

void scan_filter_end(ScanFilter *filter)
{
    if (filter->fetch != nullptr)
        table_index_fetch_end(filter->fetch);
    filter->fetch = nullptr;
}

}  // namespace ann::pg
