// The filter of an index scan, made known to the access method.
//
// Postgres hands an index access method only the conditions on indexed columns; the rest of
// the scan's WHERE clause (its qual) the executor evaluates on each row the index returns. A
// vector index that cannot see the filter hands out its nearest rows and watches most of them
// be thrown away. An ExecutorStart hook therefore finds each plain index scan on one of our
// indexes whose qual is safe to evaluate early (no volatile function, no subplan), begins its
// scan descriptor just as the executor's first fetch would, and gives the access method a
// ScanFilter with which it checks rows against the qual itself. The executor still evaluates
// the qual on every row the index returns: the filter only lets the index skip rows the
// executor would reject, so no query can return a different result.
#pragma once

#include "pg/postgres.hpp"

#include "pg/index_metric.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
}

namespace ann::pg {

struct ScanFilter {
    ExprState *qual;             // null when a distance limit was all of the qual
    ExprState *distance_limit;   // the bound on the distance the scan orders by, or null
    Oid limit_type;              // float8 or float4
    ExprContext *context;        // the query's parameters, its own per-row memory
    TupleTableSlot *slot;        // the table row being checked
    IndexFetchTableData *fetch;  // opened on first use, closed by scan_filter_end
    uint64 checks;               // scan_filter_passes calls since the access method reset them
    uint64 passes;               // of which true
};

// The scan's WHERE clause may bound the distance it is ordered by (`ORDER BY v <-> $1` with
// `v <-> $1 < $2`, or `$2 > v <-> $1`); the access method then stops where nothing can pass.
// That clause is kept out of `qual`, so a row is not fetched only to test it. The limit is
// in the ordering operator's units; false when there is none. A NULL limit passes nothing
// (-infinity); whether the clause is < or <= the access method need not know, since the
// executor tests the clause on every row it gets.
bool scan_filter_distance_limit(ScanFilter *filter, double *limit);

// A table row and its distance to the query, in the index's metric.
struct RankedRow {
    float distance;
    ItemPointerData heap_tid;
};

// Installs the ExecutorStart hook; called once from _PG_init.
void scan_filter_init();

// Whether an index scan with these filter clauses (a list of expressions, as in a plan's
// qual) gets them as a ScanFilter: there are some, and running them early cannot be
// observed (no volatile function, which would run more often; no subplan, which belongs to
// its own node).
bool scan_filter_applies(List *clauses);

// For the cost estimates: the clauses of a scan of `rel` that it would get as its filter
// (NIL when scan_filter_applies says it gets none), and into *selectivity the share of the
// table's rows they pass (never 0: the planner's row estimate is at least 1).
List *scan_filter_planned(RelOptInfo *rel, double *selectivity);

// True when any of the `count` heap rows, as the scan's snapshot sees it, satisfies the
// filter (the distance limit aside, which the access method tests).
bool scan_filter_passes(ScanFilter *filter, IndexScanDesc scan, const ItemPointerData *heap_tids,
                        uint32 count);

// Starts loading the table rows at `heap_tids`, which scan_filter_passes is about to check:
// a filtered graph search checks rows scattered over the table, each a chain of cache misses
// (buffer header, line pointer, row), and a group of them loaded together costs little more
// than one.
void scan_filter_prefetch(ScanFilter *filter, IndexScanDesc scan, const ItemPointerData *heap_tids, uint32 count);

// Whether scan_filter_rank_all can stand in for `index` on `heap`: not for an expression
// index (no column to read), nor for a partial index (a query that implies its predicate
// leaves the predicate out of the scan's qual, so rows outside the index would pass), nor
// for a table other than a heap (the TIDs its scans return need not be those its indexes
// hold).
bool scan_filter_can_rank_all(Relation heap, Relation index);

// The exact answer: every row of the table that passes the filter, lies within
// `distance_limit` (in the index's metric) and that the index would hold (a non-NULL vector,
// non-zero under cosine), with its distance to `query` (normalised as the index normalises),
// nearest first, in *rows (palloc'd). For a filter so selective that walking the graph to
// its rows would cost more than reading the whole table; only where scan_filter_can_rank_all.
void scan_filter_rank_all(ScanFilter *filter, IndexScanDesc scan, IndexMetric metric, const float *query,
                          int dim, float distance_limit, RankedRow **rows, uint32 *count);

// Releases the table fetch state; the access method calls it from amendscan.
void scan_filter_end(ScanFilter *filter);

}  // namespace ann::pg
