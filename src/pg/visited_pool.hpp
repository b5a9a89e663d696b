// Memory for the visited sets of index scans, kept by the session between scans. A filtered
// scan's visited set grows to hundreds of kilobytes, and allocating that afresh for every
// query came back as page faults each time; a few blocks kept warm spare them.
#pragma once

#include "core/hnsw_memory.h"
#include "pg/postgres.hpp"

namespace ann::pg {

// Hooks whose blocks come from, and go back to, the session's pool (a few blocks of up to a
// few megabytes; larger ones are freed). A block not given back stays allocated in the
// pool's context, so whoever takes one must give it back on error too (hnsw_scan.cpp does
// so from a reset callback of the scan's memory context).
core::MemoryHooks visited_pool_hooks();

}  // namespace ann::pg
