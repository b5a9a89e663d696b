// Module entry: the magic block Postgres checks on load, and process-wide initialisation.
#include "pg/postgres.hpp"

#include "core/distance.h"
#include "pg/hnsw.hpp"
#include "pg/ivfflat.hpp"
#include "pg/scan_filter.hpp"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void _PG_init(void)
{
    // Choose the distance kernels now, so the first query does not pay for CPUID.
    (void)ann::core::kernels();
    ann::pg::hnsw_init();
    ann::pg::ivfflat_init();
    ann::pg::scan_filter_init();
}
}
