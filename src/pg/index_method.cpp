#include "pg/index_method.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
}

namespace ann::pg {

IndexAmRoutine *make_distance_index_routine(uint16 support_procs)
{
    IndexAmRoutine *am = makeNode(IndexAmRoutine);
    am->amstrategies = 0;
    am->amsupport = support_procs;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = false;
    am->amoptionalkey = true;
    am->amsearcharray = false;
    am->amsearchnulls = false;
    am->amstorage = false;
    am->amclusterable = false;
    am->ampredlocks = false;
    am->amcanparallel = false;
    am->amcaninclude = false;
    am->amusemaintenanceworkmem = false;
    am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
    am->amkeytype = InvalidOid;
#if PG_VERSION_NUM >= 160000
    am->amsummarizing = false;
#endif
#if PG_VERSION_NUM >= 170000
    am->amcanbuildparallel = true;
#endif
    return am;
}

void reserve_settings_prefix(const char *prefix)
{
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved(prefix);
#else
    EmitWarningsOnPlaceholders(prefix);
#endif
}

namespace {

// Whether a window function's value for a row may depend on rows after it other than its
// peers: ntile, percent_rank and cume_dist count the whole partition, lead looks ahead.
// row_number, rank, dense_rank and lag look back; aggregates and first_value, last_value,
// nth_value read their frame, which the window must end at the current row.
bool reads_ahead(Node *node, void *)
{
    if (node == nullptr)
        return false;
    if (IsA(node, WindowFunc) && !castNode(WindowFunc, node)->winagg) {
        switch (castNode(WindowFunc, node)->winfnoid) {
        case F_ROW_NUMBER:
        case F_RANK_:
        case F_DENSE_RANK_:
        case F_LAG_ANYELEMENT:
        case F_LAG_ANYELEMENT_INT4:
        case F_LAG_ANYCOMPATIBLE_INT4_ANYCOMPATIBLE:
        case F_FIRST_VALUE:
        case F_LAST_VALUE:
        case F_NTH_VALUE:
            break;
        default:
            return true;
        }
    }
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(reads_ahead)),
                                  nullptr);
}

// Whether the query's window functions, fed its rows in the query's own order, need none
// past the current row and its peers, so that a LIMIT above them bounds the rows the scan
// must return: every window is ordered as the query is, has no partitions, ends its frame
// at the current row, and no function reads ahead.
// Reciprocal rank fusion, as pgvector's hybrid search example does it, is such a query:
// rank() OVER (ORDER BY embedding <=> $1) ... ORDER BY embedding <=> $1 LIMIT 20.
bool windows_stream_in_query_order(Query *parse)
{
    ListCell *cell;
    foreach (cell, parse->windowClause) {
        const auto *window = lfirst_node(WindowClause, cell);
        if (window->partitionClause != NIL || !equal(window->orderClause, parse->sortClause) ||
            (window->frameOptions & FRAMEOPTION_END_CURRENT_ROW) == 0)
            return false;
    }
    return !reads_ahead(reinterpret_cast<Node *>(parse->targetList), nullptr);
}

// LIMIT plus OFFSET when both are constants (a NULL OFFSET counts as none), else -1.
double constant_row_limit(const Query *parse)
{
    const Node *count = parse->limitCount;
    const Node *offset = parse->limitOffset;
    if (!IsA(count, Const) || (offset != nullptr && !IsA(offset, Const)))
        return -1;
    double rows = static_cast<double>(DatumGetInt64(castNode(Const, count)->constvalue));
    if (offset != nullptr && !castNode(Const, offset)->constisnull)
        rows += static_cast<double>(DatumGetInt64(castNode(Const, offset)->constvalue));
    return Max(rows, 0.0);
}

}  // namespace

bool scan_row_limit(PlannerInfo *root, double *limit)
{
    *limit = root->limit_tuples;
    if (root->limit_tuples >= 0)
        return true;
    Query *parse = root->parse;
    const Node *count = parse->limitCount;
    // The planner drops a known limit for these reasons (grouping_planner), window
    // functions included, of which some read no further than the LIMIT does.
    if (count == nullptr || (IsA(count, Const) && castNode(Const, count)->constisnull) ||
        parse->groupClause != NIL || parse->groupingSets != NIL || parse->distinctClause != NIL ||
        parse->hasAggs || parse->hasTargetSRFs || root->hasHavingQual)
        return false;
    if (!parse->hasWindowFuncs)
        return true;
    if (!windows_stream_in_query_order(parse))
        return false;
    *limit = constant_row_limit(parse);
    return true;
}

}  // namespace ann::pg
