// The hnsw handler: what Postgres asks of the access method before any page is touched
// (capabilities, options, settings, cost, operator class validation).
#include "pg/hnsw.hpp"

#include "pg/guard.hpp"
#include "pg/index_method.hpp"
#include "pg/opclass_validate.hpp"
#include "pg/scan_filter.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

#include <cmath>

namespace ann::pg {

int hnsw_ef_search = kHnswDefaultEfSearch;
int hnsw_iterative_scan = static_cast<int>(HnswIterativeScan::off);
int hnsw_max_scan_tuples = 20000;
double hnsw_scan_mem_multiplier = 1.0;
int hnsw_vector_cache_size = 128 * 1024;

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

// Index tuples an hnsw scan reads (ranks) to hand out `elements` elements: about m per
// element (each expansion reads up to 2m neighbours, half of them new), plus m for each level
// of the descent. Exact enough while the scan is far from exhausting the graph, which is
// where the planner's choice matters.
double ranked_tuples(double tuples, int m, double elements)
{
    const double levels = std::log(tuples) / std::log(static_cast<double>(m));
    return elements * m + levels * m;
}

// The first rows cost one layer-0 search of ef_search elements. Without an iterative scan
// that is all the scan does. With one, rows that a filter rejects must be made up by
// searching on: to return `limit` rows through a filter of selectivity s the scan hands out
// about limit / s elements. The planner prices a LIMIT by interpolating between the startup
// and the total cost at the fraction of rows it needs, so the total is priced as m ranked
// tuples per element over the whole table; at limit / s elements that gives the right
// cost, so a selective filter makes a btree (or exact) plan win, as it should: walking the
// graph for rows that a btree finds directly is 5 to 20 times slower.
//
// When the scan checks the filter itself (scan_filter.hpp) it collects the ef_search nearest
// passing elements before it hands out a row, so it walks about max(ef_search, limit) / s
// elements, fetching each one's row for the check. Such an element is priced at twice an
// unfiltered one. Measured on GloVe-100 (200,000 rows, a 1% filter) it takes 6 us, five
// times what a btree bitmap plan's cost units take there (0.85 us); but without a btree the
// rival is a parallel sequential scan, priced at 2.5 us per unit on two cores. At 2, a 1%
// filter goes to a btree where there is one (5x faster than the graph) and stays on the
// graph where there is none (1.5x faster than the sequential scan).
constexpr double kCheckedElementCost = 2.0;
// Near the query a filter may pass far more rows than in the whole table (a category whose
// rows cluster around the query). When the planner knows the query, a probe of the graph
// (hnsw_probe.cpp) checks the rows of the nearest ef_search elements; a pass rate above the
// selectivity, pulled towards it with the weight of this many rows, makes the scan cheaper.
// The weight keeps the two or three passing rows a 1% filter shows now and then from
// taking it off a btree; a filter on the query's own cluster passes tens. A rate below the
// selectivity is not trusted: ef_search rows cannot tell a 1% filter from a far cluster.
//
// The probe is a search of its own, on every planning of the query (a prepared statement
// whose plans it makes cheaper gets a custom plan each time): half a millisecond on
// GloVe-100, a fifth of a 10% filter's whole query. It can only make the graph cheaper (or
// take it off the table route), so it runs only where that could change the plan: where
// another index of the table could find the filter's rows, or where the graph is priced
// above the least a sequential scan could cost.
constexpr double kProbePriorRows = 100.0;

// Whether an index other than `path`'s could serve the filter `clauses`: one on a column
// they read, one on an expression (which may be theirs), or a partial one the query implies.
bool filter_has_rival_index(const IndexPath *path, List *clauses)
{
    const RelOptInfo *rel = path->indexinfo->rel;
    Bitmapset *columns = nullptr;
    pull_varattnos(reinterpret_cast<Node *>(clauses), rel->relid, &columns);
    bool rival = false;
    ListCell *cell;
    foreach (cell, rel->indexlist) {
        const auto *other = static_cast<const IndexOptInfo *>(lfirst(cell));
        if (other->indexoid == path->indexinfo->indexoid)
            continue;
        rival = other->indpred != NIL && other->predOK;
        for (int i = 0; i < other->nkeycolumns && !rival; i++) {
            const int key = other->indexkeys[i];
            rival = key == 0 || bms_is_member(key - FirstLowInvalidHeapAttributeNumber, columns);
        }
        if (rival)
            break;
    }
    bms_free(columns);
    return rival;
}

// What any pass over the table costs: reading its pages in order, and the filter.
struct TablePassCosts {
    double pages;
    QualCost filter;
};

TablePassCosts table_pass_costs(PlannerInfo *root, const IndexPath *path, List *clauses)
{
    const RelOptInfo *rel = path->indexinfo->rel;
    double random_page_cost;
    double seq_page_cost;
    get_tablespace_page_costs(rel->reltablespace, &random_page_cost, &seq_page_cost);
    TablePassCosts costs;
    costs.pages = seq_page_cost * static_cast<double>(rel->pages);
    cost_qual_eval(&costs.filter, clauses, root);
    return costs;
}

// The least a sequential scan of the table under `clauses` can be priced at, sorted or not:
// its pages, which parallel workers do not share out, and per row cpu_tuple_cost and the
// filter, shared at best by the leader and every worker alike.
double sequential_scan_floor(const IndexPath *path, const TablePassCosts &pass)
{
    return pass.pages + pass.filter.startup +
           (cpu_tuple_cost + pass.filter.per_tuple) * path->indexinfo->rel->tuples /
               (1 + max_parallel_workers_per_gather);
}

// Whether the probe could change the plan, for a graph priced at `graph` (LIMIT applied)
// without it: where another index could take the filter, or a sequential scan could cost less.
bool probe_may_change_plan(const IndexPath *path, List *clauses, const TablePassCosts &pass, double graph)
{
    return graph > sequential_scan_floor(path, pass) || filter_has_rival_index(path, clauses);
}

// What the scan costs when it gives up on the graph for the table (scan_filter_rank_all),
// as it does when the filter passes so few rows near the query that walking to them would
// cost more: the first search, then one pass over the table, all of it before the first
// row. The pass is priced as a sequential scan's pages plus, per row, the filter and one
// operator: it runs no executor node per row, and took 30 ms on GloVe-100 (200,000 rows)
// where a sequential scan with the same filter in one process took 39 ms, priced at
// cpu_tuple_cost a row.
double table_route_cost(const IndexPath *path, const TablePassCosts &pass, double first_search)
{
    return first_search + pass.filter.startup + pass.pages +
           (cpu_operator_cost + pass.filter.per_tuple) * path->indexinfo->rel->tuples;
}

// Whether the scan would give up on the graph for the table at once, finding passing
// elements at `pass_rate`: by the test the scan itself applies (hnsw_table_is_cheaper),
// which it makes during its first ef_search passing elements only.
bool would_rank_table(Relation index, double pass_rate)
{
    Relation heap = table_open(index->rd_index->indrelid, NoLock);
    const bool would = scan_filter_can_rank_all(heap, index) &&
                       hnsw_table_is_cheaper(hnsw_ef_search, pass_rate, heap->rd_rel->reltuples);
    table_close(heap, NoLock);
    return would;
}

void hnsw_cost_estimate(PlannerInfo *root, IndexPath *path, double loop_count,
                        Cost *startup_cost, Cost *total_cost, Selectivity *selectivity,
                        double *correlation, double *index_pages)
{
    // Without ORDER BY distance the graph answers nothing useful, and without LIMIT a scan,
    // which returns only its ef_search nearest elements, would cut the result short. A LIMIT
    // known only at run time (a generic plan's $1) is priced as ef_search rows.
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

    const double tuples = Max(path->indexinfo->tuples, 1.0);
    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    const int m = hnsw_option_m(index);

    // genericcostestimate prices every index page as a random read. A graph scan comes back
    // to the same few pages again and again (the upper levels, the hubs), and an index used
    // for search lives in shared_buffers: price its pages as sequential reads instead, or
    // small tables get an exact scan where the index is several times faster.
    double random_page_cost;
    double seq_page_cost;
    get_tablespace_page_costs(path->indexinfo->reltablespace, &random_page_cost, &seq_page_cost);
    auto search_cost = [&](double ranked) {
        GenericCosts costs;
        memset(&costs, 0, sizeof(costs));
        costs.numIndexTuples = Min(tuples, ranked);
        genericcostestimate(root, path, loop_count, &costs);
        costs.indexTotalCost -= costs.numIndexPages * Max(random_page_cost - seq_page_cost, 0.0);
        return costs;
    };
    const GenericCosts first = search_cost(ranked_tuples(tuples, m, hnsw_ef_search));
    *startup_cost = first.indexTotalCost;
    *total_cost = first.indexTotalCost;
    *selectivity = first.indexSelectivity;
    if (static_cast<HnswIterativeScan>(hnsw_iterative_scan) != HnswIterativeScan::off) {
        // genericcostestimate prices at most one pass over the index: scale that pass.
        const GenericCosts pass = search_cost(tuples);
        const double per_ranked_tuple = pass.indexTotalCost / tuples;
        double elements_per_row = 1.0;
        double filter_selectivity;
        List *clauses = scan_filter_planned(path->indexinfo->rel, &filter_selectivity);
        const double limit = row_limit < 0 ? hnsw_ef_search : Max(row_limit, 1.0);
        double pass_rate = filter_selectivity;  // near the query
        auto graph_cost = [&]() {
            return Max(*startup_cost, per_ranked_tuple * ranked_tuples(tuples, m, tuples) * elements_per_row);
        };
        // The planner prices the LIMIT as this share of the way from startup to total.
        const double share = Min(1.0, limit / Max(path->indexinfo->rel->rows, 1.0));
        auto limited = [&](double total) { return *startup_cost + (total - *startup_cost) * share; };
        double through_table = 0;
        if (clauses != NIL) {
            elements_per_row = Max(static_cast<double>(hnsw_ef_search), limit) / limit * kCheckedElementCost;
            const TablePassCosts table_pass = table_pass_costs(root, path, clauses);
            through_table = table_route_cost(path, table_pass, first.indexTotalCost);
            if (probe_may_change_plan(path, clauses, table_pass, limited(graph_cost()))) {
                const HnswProbe probe = hnsw_probe_filter(path, index, clauses, hnsw_ef_search);
                if (probe.checked > 0) {
                    const double near_query =
                        (probe.passed + kProbePriorRows * filter_selectivity) / (probe.checked + kProbePriorRows);
                    pass_rate = Max(filter_selectivity, near_query);
                    elements_per_row *= filter_selectivity / pass_rate;
                }
            }
        }
        *total_cost = graph_cost();
        if (clauses != NIL && would_rank_table(index, pass_rate) && through_table < limited(*total_cost)) {
            *startup_cost = through_table;
            *total_cost = through_table;
            // The table rows the executor then fetches are the passing ones only.
            *selectivity = filter_selectivity;
        }
    }
    index_close(index, NoLock);
    *correlation = 0;
    *index_pages = first.numIndexPages;
}

bool hnsw_validate(Oid opclass_oid)
{
    return validate_ordering_opclass(opclass_oid, "hnsw", 2);
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
    DefineCustomIntVariable("hnsw.vector_cache_size", "Memory a session keeps hnsw element vectors in for its scans",
                            "Scans rank neighbours from this copy instead of the index pages; 0 turns it off.",
                            &hnsw_vector_cache_size, 128 * 1024, 0, MAX_KILOBYTES, PGC_USERSET, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
    reserve_settings_prefix("hnsw");
}

}  // namespace ann::pg

using namespace ann::pg;

ANN_FUNCTION(hnsw_handler)
{
    IndexAmRoutine *am = make_distance_index_routine(2);

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
