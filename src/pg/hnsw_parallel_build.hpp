// Building the in-memory graph with Postgres parallel workers (CREATE INDEX under
// max_parallel_maintenance_workers). The vectors and the graph live in a DSM segment; the
// leader and every worker claim nodes from a shared counter and insert them, the core
// serialising link updates through one LWLock per node. When all nodes are in, the graph
// is copied back to the leader's memory and the parallel context ends, so that pages are
// written outside parallel mode exactly as after a serial build.
#pragma once

#include "core/hnsw_graph.h"
#include "pg/postgres.hpp"

extern "C" {
#include "utils/rel.h"
}

namespace ann::pg {

// Fewer rows than this are built serially: starting workers costs more than it saves.
constexpr uint32 kHnswMinParallelRows = 10000;

// Workers CREATE INDEX may use for this index (0: build serially).
int hnsw_parallel_workers(Relation heap, Relation index, uint32 rows);

// Inserts nodes 0..count-1 into a graph formatted in `graph_memory` (graph_bytes long,
// params and vectors as for HnswGraph::init) using `workers` workers beside the leader.
// Returns with every node inserted and `graph_memory` holding the result.
void hnsw_parallel_insert_all(int workers, const core::HnswParams &params, uint32 count,
                              const float *vectors, void *graph_memory, Size graph_bytes);

}  // namespace ann::pg
