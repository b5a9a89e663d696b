// The assign phase of an ivfflat CREATE INDEX with Postgres parallel workers
// (max_parallel_maintenance_workers). The leader clusters its sample alone, then puts the
// centres in a DSM segment; it and each worker take blocks from one parallel heap scan and
// put every row, with its nearest centre's list, into their own tuplesort of a shared sort.
// The leader merges the participants' sorted runs and writes the pages as a serial build
// does. Rows are sorted by list and then heap TID, so the index does not depend on how many
// participants read which blocks.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "access/relscan.h"
#include "nodes/execnodes.h"
#include "port/atomics.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"
}

namespace ann::pg {

// Fewer rows than this are assigned serially: starting workers costs more than it saves.
constexpr int64 kIvfflatMinParallelRows = 10000;

// Workers CREATE INDEX may use for this index (0: assign serially).
int ivfflat_parallel_workers(Relation heap, Relation index, int64 rows);

// What one participant counted.
struct IvfflatShareTotals {
    double heap_tuples;  // as table_index_build_scan counts them
    int64 rows;          // rows put in the sort
};

// Defined in ivfflat_build.cpp, beside the serial assign phase it shares its code with: one
// participant's share. Every row `scan` returns goes into the worker tuplesort of
// `coordinate` (work_mem kB), which is sorted before returning. The rows of each list are
// added to rows_per_list[list], and to rows_done every 1024 rows; the leader reports
// rows_done as progress.
IvfflatShareTotals ivfflat_assign_share(Relation heap, Relation index, IndexInfo *index_info, TableScanDesc scan,
                                        const float *centres, const float *centre_norms, int work_mem,
                                        SortCoordinate coordinate, pg_atomic_uint64 *rows_per_list,
                                        pg_atomic_uint64 *rows_done, bool is_leader);

// A parallel assign phase that has run: the participants' sorted runs wait in the shared
// sort until the leader has merged them.
struct IvfflatParallelAssign;

struct IvfflatParallelResult {
    IvfflatParallelAssign *assign;
    SortCoordinate coordinate;  // for the leader's merging tuplesort
    double heap_tuples;
    int64 rows;
};

// Runs the assign phase with `workers` workers (the leader takes part), filling
// rows_per_list (lists entries) and `result`; false, having done nothing, when no dynamic
// shared memory was available. Leaves the backend in parallel mode until
// ivfflat_parallel_end, which must follow the end of the leader's merging tuplesort.
bool ivfflat_parallel_assign(int workers, Relation heap, Relation index, IndexInfo *index_info,
                             const float *centres, const float *centre_norms, int lists, int dimensions,
                             int64 *rows_per_list, IvfflatParallelResult *result);

void ivfflat_parallel_end(IvfflatParallelAssign *assign);

}  // namespace ann::pg
