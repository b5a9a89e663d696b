// The ivfflat index access method: options, settings and the callbacks each
// src/pg/ivfflat_*.cpp file implements.
#pragma once

#include <cmath>

#include "pg/postgres.hpp"

#include "pg/index_metric.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "nodes/pathnodes.h"
}

namespace ann::pg {

constexpr int kIvfflatDefaultLists = 100;
constexpr int kIvfflatMinLists = 1;
constexpr int kIvfflatMaxLists = 32768;
constexpr int kIvfflatDefaultProbes = 1;
constexpr int kIvfflatMinProbes = 1;
constexpr int kIvfflatMaxProbes = kIvfflatMaxLists;

// Parsed WITH (...) options, as build_reloptions lays them out.
struct IvfflatOptions {
    int32 vl_len_;
    int lists;
};

// ivfflat.probes
extern int ivfflat_probes;

// ivfflat.iterative_scan: whether a scan whose probed lists are used up (a filter above it
// rejected their rows) goes on to the next nearest lists, up to ivfflat.max_probes.
enum class IvfflatIterativeScan : int { off, relaxed_order };
extern int ivfflat_iterative_scan;
extern int ivfflat_max_probes;

// Lists a batch of an iterative scan probes when the scan checks a filter that passes
// `pass_rate` of the rows, for `probes` lists unfiltered (ivfflat_scan.cpp says why). The
// scan measures the pass rate, the cost estimate takes the filter's selectivity.
inline double ivfflat_filtered_probes(double probes, double pass_rate)
{
    return probes * (1.0 + 2.0 * std::log10(1.0 / pass_rate));
}

// Sub-phases reported in pg_stat_progress_create_index (pgvector's numbers and names).
enum IvfflatBuildPhase : int64 {
    kIvfflatPhaseKmeans = 2,
    kIvfflatPhaseAssign = 3,
    kIvfflatPhaseLoad = 4,
};

// Registers reloptions and settings; called once from _PG_init.
void ivfflat_init();

int ivfflat_option_lists(Relation index);

// True when the operator class clusters on the unit sphere (support function 4, the k-means
// norm, as pgvector's inner product and cosine classes declare).
bool ivfflat_spherical(Relation index);

// Callbacks, by file.
IndexBuildResult *ivfflat_build(Relation heap, Relation index, IndexInfo *index_info);  // ivfflat_build.cpp
void ivfflat_build_empty(Relation index);
bool ivfflat_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,  // ivfflat_insert.cpp
                    Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                    IndexInfo *index_info);
IndexScanDesc ivfflat_begin_scan(Relation index, int nkeys, int norderbys);  // ivfflat_scan.cpp
void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool ivfflat_get_tuple(IndexScanDesc scan, ScanDirection direction);
struct ScanFilter;
// Lets the scan check rows against the WHERE clause itself (scan_filter.hpp).
void ivfflat_scan_attach_filter(IndexScanDesc scan, ScanFilter *filter);
void ivfflat_end_scan(IndexScanDesc scan);
IndexBulkDeleteResult *ivfflat_bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,  // ivfflat_vacuum.cpp
                                           IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *ivfflat_vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

}  // namespace ann::pg
