// The hnsw index access method: options, settings and the callbacks each src/pg/hnsw_*.cpp
// file implements.
#pragma once

#include "pg/postgres.hpp"

#include "pg/index_metric.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "nodes/pathnodes.h"
}

namespace ann::pg {

constexpr int kHnswDefaultM = 16;
constexpr int kHnswMinM = 2;
constexpr int kHnswMaxM = 100;
constexpr int kHnswDefaultEfConstruction = 64;
constexpr int kHnswMinEfConstruction = 4;
constexpr int kHnswMaxEfConstruction = 1000;
constexpr int kHnswDefaultEfSearch = 40;
constexpr int kHnswMinEfSearch = 1;
constexpr int kHnswMaxEfSearch = 1000;

// Parsed WITH (...) options, as build_reloptions lays them out.
struct HnswOptions {
    int32 vl_len_;
    int m;
    int ef_construction;
};

// hnsw.ef_search
extern int hnsw_ef_search;

// hnsw.iterative_scan: whether a scan that has handed out its ef_search nearest rows goes
// on searching (for queries whose filter rejected them), and whether it must keep strict
// distance order doing so (rows nearer than one already returned are then skipped).
enum class HnswIterativeScan : int { off, relaxed_order, strict_order };
extern int hnsw_iterative_scan;
// hnsw.max_scan_tuples: elements an iterative scan may visit before it stops.
extern int hnsw_max_scan_tuples;
// hnsw.scan_mem_multiplier: an iterative scan's memory bound, in multiples of work_mem.
extern double hnsw_scan_mem_multiplier;
// hnsw.vector_cache_size: kB of element vectors a session keeps for its scans.
extern int hnsw_vector_cache_size;

// Sub-phases reported in pg_stat_progress_create_index.
enum HnswBuildPhase : int64 {
    kHnswPhaseLoad = 2,
    kHnswPhaseGraph = 3,
    kHnswPhaseWrite = 4,
};

// Registers reloptions and settings; called once from _PG_init.
void hnsw_init();

int hnsw_option_m(Relation index);
int hnsw_option_ef_construction(Relation index);

// Inserts one row's vector (already normalised for cosine) into the paged graph. Used by
// aminsert and by a build whose graph outgrew maintenance_work_mem.
void hnsw_insert_vector(Relation index, IndexMetric metric, const float *vector, int dim,
                        ItemPointer heap_tid);

// Links an element already in the graph (holding `vector`) from its nearest elements on
// layer 0, as an insert would link a new one (hnsw_insert.cpp).
void hnsw_link_element(Relation index, IndexMetric metric, const float *vector, ItemPointer tid);

// Links in every live element a layer-0 walk from the entry point misses; returns how many
// (hnsw_reachability.cpp, run by VACUUM).
uint32 hnsw_link_unreachable(Relation index, BufferAccessStrategy strategy);

// Whether a filtered scan that still misses `missing` passing elements, which it finds at
// `pass_rate` per element checked, should read the table of `table_rows` rows instead
// (hnsw_scan.cpp). The cost estimate asks the same at the pass rate it expects. False while
// the table's size is unknown (negative: never vacuumed or analysed).
bool hnsw_table_is_cheaper(double missing, double pass_rate, double table_rows);

// Rows checked and passed among the nearest `width` elements of `index` to the query of
// `path`'s ORDER BY, against `clauses` (hnsw_probe.cpp); nothing checked when the planner
// does not know the query or the filter's values, or the filter could raise an error.
struct HnswProbe {
    uint32 checked;
    uint32 passed;
};
HnswProbe hnsw_probe_filter(IndexPath *path, Relation index, List *clauses, int width);

// Callbacks, by file.
IndexBuildResult *hnsw_build(Relation heap, Relation index, IndexInfo *index_info);  // hnsw_build.cpp
void hnsw_build_empty(Relation index);
bool hnsw_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,  // hnsw_insert.cpp
                 Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                 IndexInfo *index_info);
IndexScanDesc hnsw_begin_scan(Relation index, int nkeys, int norderbys);  // hnsw_scan.cpp
void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool hnsw_get_tuple(IndexScanDesc scan, ScanDirection direction);
struct ScanFilter;
// Lets the scan check rows against the WHERE clause itself (scan_filter.hpp).
void hnsw_scan_attach_filter(IndexScanDesc scan, ScanFilter *filter);
void hnsw_end_scan(IndexScanDesc scan);
IndexBulkDeleteResult *hnsw_bulk_delete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,  // hnsw_vacuum.cpp
                                        IndexBulkDeleteCallback callback, void *callback_state);
IndexBulkDeleteResult *hnsw_vacuum_cleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

}  // namespace ann::pg
