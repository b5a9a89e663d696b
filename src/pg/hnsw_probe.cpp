// A look at the graph while planning: how often rows near the query pass the filter.
//
// A filter's selectivity says how many rows pass in the whole table, not near the query. For
// a filter correlated with the vectors (a category whose rows cluster) the two differ by
// orders of magnitude: the rows of the query's own cluster nearly all pass near it, those of
// a far cluster never do, though both are 1% of the table. A filtered hnsw scan costs what it
// walks until it has its passing elements, so the cost estimate asks this probe when it can.
#include "pg/hnsw.hpp"

#include "pg/core_memory.hpp"
#include "pg/hnsw_graph_reader.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace ann::pg {

namespace {

// A parameter has no value at plan time in a generic plan; a placeholder the executor
// cannot evaluate outside its node.
bool has_unknown_value(Node *node, void *)
{
    if (node == nullptr)
        return false;
    if (IsA(node, Param) || IsA(node, PlaceHolderVar))
        return true;
    return expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(has_unknown_value)), nullptr);
}

bool is_leaky_function(Oid function, void *)
{
    return !get_func_leakproof(function);
}

// Whether some function in `node` is not leakproof. contain_leaked_vars looks only at
// functions of the row's columns; the probe must not call any other (say current_setting(),
// which fails where the setting is missing) either, since the plan may never call it.
bool has_leaky_function(Node *node, void *)
{
    if (node == nullptr)
        return false;
    if (check_functions_in_node(node, is_leaky_function, nullptr))
        return true;
    return expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(has_leaky_function)), nullptr);
}

// The query vector of the scan's ORDER BY, when the planner knows its value.
const Vector *known_query(IndexPath *path)
{
    if (list_length(path->indexorderbys) != 1 || !IsA(linitial(path->indexorderbys), OpExpr))
        return nullptr;
    const auto *order_by = static_cast<OpExpr *>(linitial(path->indexorderbys));
    if (list_length(order_by->args) != 2 || !IsA(lsecond(order_by->args), Const))
        return nullptr;
    const auto *value = static_cast<Const *>(lsecond(order_by->args));
    return value->constisnull ? nullptr : datum_get_vector(value->constvalue);
}

}  // namespace

HnswProbe hnsw_probe_filter(IndexPath *path, Relation index, List *clauses, int width)
{
    HnswProbe probe{0, 0};
    // Only values known now, and only leakproof functions: a filter that could fail on some
    // row must not make planning fail where running the plan might never reach that row.
    const Vector *query_value = known_query(path);
    if (query_value == nullptr || has_unknown_value(reinterpret_cast<Node *>(clauses), nullptr) ||
        contain_leaked_vars(reinterpret_cast<Node *>(clauses)) ||
        has_leaky_function(reinterpret_cast<Node *>(clauses), nullptr) || !ActiveSnapshotSet())
        return probe;

    const HnswMeta meta = hnsw_read_meta(index);
    if (!ItemPointerIsValid(&meta.entry_point) || static_cast<uint32>(query_value->dim) != meta.dimensions)
        return probe;
    const IndexMetric metric = index_metric(index);
    Relation heap = table_open(index->rd_index->indrelid, NoLock);
    EState *estate = CreateExecutorState();
    MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
    float *query = static_cast<float *>(palloc(sizeof(float) * query_value->dim));
    memcpy(query, query_value->x, sizeof(float) * query_value->dim);
    if (normalize_for_metric(metric, query, query_value->dim)) {
        ExprState *qual = ExecPrepareQual(clauses, estate);
        ExprContext *context = GetPerTupleExprContext(estate);
        TupleTableSlot *slot = table_slot_create(heap, nullptr);
        IndexFetchTableData *fetch = table_index_fetch_begin(heap);
        const uint32 ef = static_cast<uint32>(width);
        core::ScanSearchState search;
        if (search.init(palloc_hooks(CurrentMemoryContext), ef, ef * 2 * static_cast<uint32>(meta.m)) !=
            core::HnswStatus::ok)
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw cost estimate")));
        HnswGraphReader reader(index, metric, static_cast<int>(meta.dimensions), meta.m);
        // An estimate only: the rows of an element whose vector changed since it was cached
        // count as any others.
        if (HnswVectorCache *cache = hnsw_vector_cache(index, meta))
            reader.use_cache(cache, cache->epoch);
        ItemPointerData *heap_tids = nullptr;
        uint32 capacity = 0;
        if (reader.search(search, query, ef, 0, meta)) {
            for (uint32 i = 0; i < search.result_count(); i++) {
                const uint32 count = reader.read_heap_tids(search.result_id(i), &heap_tids, 0, &capacity);
                for (uint32 t = 0; t < count; t++) {
                    bool call_again = false;
                    if (!table_index_fetch_tuple(fetch, &heap_tids[t], GetActiveSnapshot(), slot,
                                                 &call_again, nullptr))
                        continue;
                    context->ecxt_scantuple = slot;
                    probe.checked++;
                    probe.passed += ExecQual(qual, context) ? 1 : 0;
                    ResetExprContext(context);
                    ExecClearTuple(slot);
                }
            }
        }
        reader.release();
        search.release();
        table_index_fetch_end(fetch);
        ExecDropSingleTupleTableSlot(slot);
    }
    MemoryContextSwitchTo(old);
    FreeExecutorState(estate);
    table_close(heap, NoLock);
    return probe;
}

}  // namespace ann::pg
