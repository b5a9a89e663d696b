#include "pg/index_method.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "nodes/pathnodes.h"
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

bool scan_row_limit(PlannerInfo *root, double *limit)
{
    *limit = root->limit_tuples;
    if (root->limit_tuples >= 0)
        return true;
    const Query *parse = root->parse;
    const Node *count = parse->limitCount;
    // The planner drops a known limit for the same reasons (grouping_planner).
    return count != nullptr && !(IsA(count, Const) && castNode(Const, count)->constisnull) &&
           parse->groupClause == NIL && parse->groupingSets == NIL && parse->distinctClause == NIL &&
           !parse->hasAggs && !parse->hasWindowFuncs && !parse->hasTargetSRFs && !root->hasHavingQual;
}

}  // namespace ann::pg
