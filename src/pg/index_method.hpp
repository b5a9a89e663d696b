// What the two index access methods, hnsw and ivfflat, are alike in.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "access/amapi.h"
}

namespace ann::pg {

// An IndexAmRoutine with the capabilities both methods share: one key column ranked by a
// distance operator (ORDER BY column <op> value), no search operators, no uniqueness,
// forward-only scans by one process, builds that may use parallel workers. The caller sets
// its callbacks.
IndexAmRoutine *make_distance_index_routine(uint16 support_procs);

// Keeps the settings namespace `prefix` (hnsw., ivfflat.) for the method's own settings.
void reserve_settings_prefix(const char *prefix);

// Whether a LIMIT bounds the rows the scan feeds (no grouping stands between them, nor a
// window function that reads ahead), and in *limit its value, or -1 when that is known
// only when the plan runs (LIMIT $1 in a generic plan, LIMIT (SELECT ...)).
bool scan_row_limit(PlannerInfo *root, double *limit);

}  // namespace ann::pg
