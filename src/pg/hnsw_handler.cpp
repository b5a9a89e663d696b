// The hnsw handler: what Postgres asks of the access method before any page is touched
// (capabilities, options, settings, cost, operator class validation).
#include "pg/hnsw.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
}

#include <cmath>

namespace ann::pg {

int hnsw_ef_search = kHnswDefaultEfSearch;
int hnsw_iterative_scan = static_cast<int>(HnswIterativeScan::off);
int hnsw_max_scan_tuples = 20000;
double hnsw_scan_mem_multiplier = 1.0;

namespace {

relopt_kind hnsw_relopt_kind;

bytea *hnsw_options(Datum reloptions, bool validate)
{
    static const relopt_parse_elt table[] = {
        {"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
        {"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
    };
    return static_cast<bytea *>(build_reloptions(reloptions, validate, hnsw_relopt_kind,
                                                 sizeof(HnswOptions), table, lengthof(table)));
}

char *hnsw_build_phase_name(int64 phase)
{
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
            return pstrdup("initializing");
        case kHnswPhaseLoad:
            return pstrdup("loading tuples");
        case kHnswPhaseGraph:
            return pstrdup("building graph");
        case kHnswPhaseWrite:
            return pstrdup("writing index pages");
        default:
            return nullptr;
    }
}

// The scan does all its work before the first row: a descent through the upper levels and
// a layer-0 search that expands about ef_search nodes, each ranking up to 2m neighbours.
void hnsw_cost_estimate(PlannerInfo *root, IndexPath *path, double loop_count,
                        Cost *startup_cost, Cost *total_cost, Selectivity *selectivity,
                        double *correlation, double *index_pages)
{
    GenericCosts costs;
    memset(&costs, 0, sizeof(costs));

    // Without ORDER BY distance the graph answers nothing useful, and without LIMIT a scan,
    // which returns only its ef_search nearest elements, would cut the result short.
    if (path->indexorderbys == NIL || root->limit_tuples < 0) {
        *startup_cost = disable_cost;
        *total_cost = disable_cost;
        *selectivity = 0;
        *correlation = 0;
        *index_pages = 0;
        return;
    }

    const double tuples = Max(path->indexinfo->tuples, 1.0);
    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    const int m = hnsw_option_m(index);
    index_close(index, NoLock);

    // Roughly half of each expanded node's neighbours are new; the descent adds m per level.
    const double levels = std::log(tuples) / std::log(static_cast<double>(m));
    const double ranked = Min(tuples, hnsw_ef_search * m * 1.0 + levels * m);
    costs.numIndexTuples = ranked;
    genericcostestimate(root, path, loop_count, &costs);

    *startup_cost = costs.indexTotalCost;
    *total_cost = costs.indexTotalCost;
    *selectivity = costs.indexSelectivity;
    *correlation = 0;
    *index_pages = costs.numIndexPages;
}

bool hnsw_validate(Oid opclass_oid)
{
    HeapTuple class_tuple = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass_oid));
    if (!HeapTupleIsValid(class_tuple))
        elog(ERROR, "cache lookup failed for operator class %u", opclass_oid);
    auto *class_form = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(class_tuple));
    const Oid family = class_form->opcfamily;
    const char *class_name = pstrdup(NameStr(class_form->opcname));
    ReleaseSysCache(class_tuple);

    bool valid = true;
    bool has_distance = false;

    CatCList *procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(family));
    for (int i = 0; i < procs->n_members; i++) {
        auto *proc = reinterpret_cast<Form_pg_amproc>(GETSTRUCT(&procs->members[i]->tuple));
        if (proc->amprocnum == 1) {
            has_distance = true;
        } else if (proc->amprocnum != 2) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("hnsw operator family of class \"%s\" contains invalid support "
                                  "function number %d", class_name, proc->amprocnum)));
            valid = false;
        }
    }
    ReleaseCatCacheList(procs);

    CatCList *operators = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(family));
    for (int i = 0; i < operators->n_members; i++) {
        auto *op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&operators->members[i]->tuple));
        if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("hnsw operator family of class \"%s\" contains operator %u "
                                  "that is not an ORDER BY operator with strategy 1",
                                  class_name, op->amopopr)));
            valid = false;
        }
    }
    ReleaseCatCacheList(operators);

    if (!has_distance) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("hnsw operator class \"%s\" is missing support function 1",
                              class_name)));
        valid = false;
    }
    return valid;
}

const HnswOptions *options_of(Relation index)
{
    return reinterpret_cast<const HnswOptions *>(index->rd_options);
}

}  // namespace

int hnsw_option_m(Relation index)
{
    const HnswOptions *options = options_of(index);
    return options ? options->m : kHnswDefaultM;
}

int hnsw_option_ef_construction(Relation index)
{
    const HnswOptions *options = options_of(index);
    return options ? options->ef_construction : kHnswDefaultEfConstruction;
}

void hnsw_init()
{
    hnsw_relopt_kind = add_reloption_kind();
    add_int_reloption(hnsw_relopt_kind, "m", "Most neighbours a node keeps on each level above 0",
                      kHnswDefaultM, kHnswMinM, kHnswMaxM, AccessExclusiveLock);
    add_int_reloption(hnsw_relopt_kind, "ef_construction",
                      "Size of the candidate list while building the graph",
                      kHnswDefaultEfConstruction, kHnswMinEfConstruction, kHnswMaxEfConstruction,
                      AccessExclusiveLock);

    DefineCustomIntVariable("hnsw.ef_search", "Size of the candidate list of an hnsw scan",
                            "Larger values give higher recall and slower scans.",
                            &hnsw_ef_search, kHnswDefaultEfSearch, kHnswMinEfSearch,
                            kHnswMaxEfSearch, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    static const config_enum_entry iterative_scan_options[] = {
        {"off", static_cast<int>(HnswIterativeScan::off), false},
        {"relaxed_order", static_cast<int>(HnswIterativeScan::relaxed_order), false},
        {"strict_order", static_cast<int>(HnswIterativeScan::strict_order), false},
        {nullptr, 0, false},
    };
    DefineCustomEnumVariable("hnsw.iterative_scan", "Mode of iterative scans of hnsw indexes",
                             "relaxed_order and strict_order go on searching the graph until the query has "
                             "its rows (say, past a filter), within hnsw.max_scan_tuples.",
                             &hnsw_iterative_scan, static_cast<int>(HnswIterativeScan::off),
                             iterative_scan_options, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("hnsw.max_scan_tuples", "Elements an iterative hnsw scan may visit",
                            "The scan ends when it has visited this many, even with rows still wanted.",
                            &hnsw_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("hnsw.scan_mem_multiplier", "Memory of an iterative hnsw scan, in multiples of work_mem",
                             "The scan ends when its visited set and candidates outgrow this.",
                             &hnsw_scan_mem_multiplier, 1.0, 1.0, 1000.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved("hnsw");
#else
    EmitWarningsOnPlaceholders("hnsw");
#endif
}

}  // namespace ann::pg

using namespace ann::pg;

ANN_FUNCTION(hnsw_handler)
{
    IndexAmRoutine *am = makeNode(IndexAmRoutine);

    am->amstrategies = 0;
    am->amsupport = 2;
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

    am->ambuild = hnsw_build;
    am->ambuildempty = hnsw_build_empty;
    am->aminsert = hnsw_insert;
    am->ambulkdelete = hnsw_bulk_delete;
    am->amvacuumcleanup = hnsw_vacuum_cleanup;
    am->amcanreturn = nullptr;
    am->amcostestimate = hnsw_cost_estimate;
    am->amoptions = hnsw_options;
    am->amproperty = nullptr;
    am->ambuildphasename = hnsw_build_phase_name;
    am->amvalidate = hnsw_validate;
    am->amadjustmembers = nullptr;
    am->ambeginscan = hnsw_begin_scan;
    am->amrescan = hnsw_rescan;
    am->amgettuple = hnsw_get_tuple;
    am->amgetbitmap = nullptr;
    am->amendscan = hnsw_end_scan;
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;

    PG_RETURN_POINTER(am);
}
