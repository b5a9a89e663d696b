// The ivfflat handler: what Postgres asks of the access method before any page is touched
// (capabilities, options, settings, cost, operator class validation).
#include "pg/ivfflat.hpp"

#include "pg/guard.hpp"
#include "pg/index_method.hpp"
#include "pg/opclass_validate.hpp"
#include "pg/scan_filter.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "commands/progress.h"
#include "optimizer/cost.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
}

namespace ann::pg {

int ivfflat_probes = kIvfflatDefaultProbes;
int ivfflat_iterative_scan = static_cast<int>(IvfflatIterativeScan::off);
int ivfflat_max_probes = kIvfflatMaxProbes;

namespace {

// Support functions, numbered as pgvector's: 1 the distance the index ranks by, 2 the norm
// that makes the index normalise vectors (cosine), 3 the k-means distance, 4 the k-means
// norm (its presence means spherical clustering).
constexpr uint16 kKmeansNormProc = 4;

relopt_kind ivfflat_relopt_kind;

bytea *ivfflat_options(Datum reloptions, bool validate)
{
    static const relopt_parse_elt table[] = {
        {"lists", RELOPT_TYPE_INT, offsetof(IvfflatOptions, lists)},
    };
    return static_cast<bytea *>(build_reloptions(reloptions, validate, ivfflat_relopt_kind,
                                                 sizeof(IvfflatOptions), table, lengthof(table)));
}

char *ivfflat_build_phase_name(int64 phase)
{
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
            return pstrdup("initializing");
        case kIvfflatPhaseKmeans:
            return pstrdup("performing k-means");
        case kIvfflatPhaseAssign:
            return pstrdup("assigning tuples");
        case kIvfflatPhaseLoad:
            return pstrdup("loading tuples");
        default:
            return nullptr;
    }
}

// A scan ranks every centre, then every row of the `probes` nearest lists (more under a
// filter it checks), all before the first row comes out.
void ivfflat_cost_estimate(PlannerInfo *root, IndexPath *path, double loop_count,
                           Cost *startup_cost, Cost *total_cost, Selectivity *selectivity,
                           double *correlation, double *index_pages)
{
    GenericCosts costs;
    memset(&costs, 0, sizeof(costs));

    // Without ORDER BY distance the lists answer nothing useful, and without LIMIT a scan,
    // which returns only the rows of the probed lists, would cut the result short. A LIMIT
    // known only at run time (a generic plan's $1) counts as one.
    double row_limit;
    if (path->indexorderbys == NIL || !scan_row_limit(root, &row_limit)) {
        // Without ORDER BY the cost is infinite, not disable_cost: with enable_seqscan off
        // every other plan costs disable_cost too, and the planner would take the index
        // for, say, count(*). Without LIMIT, disable_cost lets a user who turned off the
        // other plans still get the index, as with pgvector.
        const Cost cost = path->indexorderbys == NIL ? get_float8_infinity() : disable_cost;
        *startup_cost = cost;
        *total_cost = cost;
        *selectivity = 0;
        *correlation = 0;
        *index_pages = 0;
        return;
    }

    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    const int lists = ivfflat_option_lists(index);
    index_close(index, NoLock);

    const double tuples = Max(path->indexinfo->tuples, 1.0);
    const bool iterative = static_cast<IvfflatIterativeScan>(ivfflat_iterative_scan) != IvfflatIterativeScan::off;
    double probes = ivfflat_probes;
    // An iterative scan that gets the filter ranks more lists before its first row.
    double filter_selectivity;
    if (iterative && scan_filter_planned(path->indexinfo->rel, &filter_selectivity) != NIL) {
        const double probe_limit = Max(ivfflat_max_probes, ivfflat_probes);
        probes = Min(ivfflat_filtered_probes(probes, filter_selectivity), probe_limit);
    }
    const double probed_fraction = Min(1.0, probes / lists);
    costs.numIndexTuples = tuples * probed_fraction + lists;
    genericcostestimate(root, path, loop_count, &costs);

    *startup_cost = costs.indexTotalCost;
    *total_cost = costs.indexTotalCost;
    // An iterative scan goes on to further lists while a filter rejects rows. The planner
    // prices a LIMIT by interpolating between startup and total cost at the fraction of
    // rows it needs (LIMIT / selectivity of the table), so pricing the total as every list
    // makes a selective filter cost about the lists it would take, as for hnsw.
    if (iterative) {
        GenericCosts all;
        memset(&all, 0, sizeof(all));
        all.numIndexTuples = tuples + lists;
        genericcostestimate(root, path, loop_count, &all);
        *total_cost = Max(*startup_cost, all.indexTotalCost);
    }
    *selectivity = costs.indexSelectivity;
    *correlation = 0;
    *index_pages = costs.numIndexPages;
}

bool ivfflat_validate(Oid opclass_oid)
{
    return validate_ordering_opclass(opclass_oid, "ivfflat", kKmeansNormProc);
}

}  // namespace

int ivfflat_option_lists(Relation index)
{
    const auto *options = reinterpret_cast<const IvfflatOptions *>(index->rd_options);
    return options ? options->lists : kIvfflatDefaultLists;
}

bool ivfflat_spherical(Relation index)
{
    return OidIsValid(index_getprocid(index, 1, kKmeansNormProc));
}

void ivfflat_init()
{
    ivfflat_relopt_kind = add_reloption_kind();
    add_int_reloption(ivfflat_relopt_kind, "lists", "Number of inverted lists",
                      kIvfflatDefaultLists, kIvfflatMinLists, kIvfflatMaxLists, AccessExclusiveLock);

    DefineCustomIntVariable("ivfflat.probes", "Number of lists an ivfflat scan searches",
                            "More probes give higher recall and slower scans.",
                            &ivfflat_probes, kIvfflatDefaultProbes, kIvfflatMinProbes,
                            kIvfflatMaxProbes, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    static const config_enum_entry iterative_scan_options[] = {
        {"off", static_cast<int>(IvfflatIterativeScan::off), false},
        {"relaxed_order", static_cast<int>(IvfflatIterativeScan::relaxed_order), false},
        {nullptr, 0, false},
    };
    DefineCustomEnumVariable("ivfflat.iterative_scan", "Mode of iterative scans of ivfflat indexes",
                             "relaxed_order goes on to the next nearest lists when the probed ones are "
                             "used up, up to ivfflat.max_probes lists.",
                             &ivfflat_iterative_scan, static_cast<int>(IvfflatIterativeScan::off),
                             iterative_scan_options, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ivfflat.max_probes", "Lists an iterative ivfflat scan searches at most",
                            "Below ivfflat.probes, ivfflat.probes applies.", &ivfflat_max_probes,
                            kIvfflatMaxProbes, kIvfflatMinProbes, kIvfflatMaxProbes, PGC_USERSET, 0,
                            nullptr, nullptr, nullptr);
    reserve_settings_prefix("ivfflat");
}

}  // namespace ann::pg

using namespace ann::pg;

ANN_FUNCTION(ivfflat_handler)
{
    IndexAmRoutine *am = make_distance_index_routine(4);

    am->ambuild = ivfflat_build;
    am->ambuildempty = ivfflat_build_empty;
    am->aminsert = ivfflat_insert;
    am->ambulkdelete = ivfflat_bulk_delete;
    am->amvacuumcleanup = ivfflat_vacuum_cleanup;
    am->amcanreturn = nullptr;
    am->amcostestimate = ivfflat_cost_estimate;
    am->amoptions = ivfflat_options;
    am->amproperty = nullptr;
    am->ambuildphasename = ivfflat_build_phase_name;
    am->amvalidate = ivfflat_validate;
    am->amadjustmembers = nullptr;
    am->ambeginscan = ivfflat_begin_scan;
    am->amrescan = ivfflat_rescan;
    am->amgettuple = ivfflat_get_tuple;
    am->amgetbitmap = nullptr;
    am->amendscan = ivfflat_end_scan;
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;

    PG_RETURN_POINTER(am);
}
