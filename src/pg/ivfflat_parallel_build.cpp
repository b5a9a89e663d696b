#include "pg/ivfflat_parallel_build.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
}

namespace ann::pg {

namespace {

constexpr uint64 kKeyShared = UINT64CONST(0xA11E000000000101);
constexpr uint64 kKeyHeapScan = UINT64CONST(0xA11E000000000102);
constexpr uint64 kKeySort = UINT64CONST(0xA11E000000000103);
constexpr uint64 kKeyCentres = UINT64CONST(0xA11E000000000104);
constexpr uint64 kKeyRowsPerList = UINT64CONST(0xA11E000000000105);
constexpr uint64 kKeyQueryText = UINT64CONST(0xA11E000000000106);

struct SharedAssign {
    Oid heap_relid;
    Oid index_relid;
    bool concurrent;
    int lists;
    int dimensions;
    // maintenance_work_mem split among the tuplesorts the shared sort is sized for (the
    // workers and the leader), as btree builds split it.
    int participant_work_mem;
    pg_atomic_uint64 rows_done;

    slock_t mutex;  // protects what follows
    double heap_tuples;
    int64 rows;
};

}  // namespace

struct IvfflatParallelAssign {
    ParallelContext *context;
    Snapshot snapshot;
};

namespace {

// The leader's and each worker's part: a share of the parallel heap scan into a tuplesort of
// the shared sort. Returns the rows this participant assigned.
int64 participate(SharedAssign *shared, ParallelTableScanDesc heap_scan, Sharedsort *sort, const float *centres,
                  pg_atomic_uint64 *rows_per_list, Relation heap, Relation index, IndexInfo *index_info,
                  bool is_leader)
{
    auto *coordinate = static_cast<SortCoordinate>(palloc0(sizeof(SortCoordinateData)));
    coordinate->isWorker = true;
    coordinate->nParticipants = -1;
    coordinate->sharedsort = sort;
    const float *centre_norms = centres + static_cast<Size>(shared->lists) * shared->dimensions;
    const IvfflatShareTotals totals = ivfflat_assign_share(
        heap, index, index_info, table_beginscan_parallel(heap, heap_scan), centres, centre_norms,
        shared->participant_work_mem, coordinate, rows_per_list, &shared->rows_done, is_leader);
    SpinLockAcquire(&shared->mutex);
    shared->heap_tuples += totals.heap_tuples;
    shared->rows += totals.rows;
    SpinLockRelease(&shared->mutex);
    pfree(coordinate);
    return totals.rows;
}

void worker_main(dsm_segment *segment, shm_toc *toc)
{
    debug_query_string = static_cast<const char *>(shm_toc_lookup(toc, kKeyQueryText, true));
    pgstat_report_activity(STATE_RUNNING, debug_query_string);
    auto *shared = static_cast<SharedAssign *>(shm_toc_lookup(toc, kKeyShared, false));
    // The locks CREATE INDEX holds in the leader, which a worker of its lock group shares.
    const LOCKMODE heap_lock = shared->concurrent ? ShareUpdateExclusiveLock : ShareLock;
    const LOCKMODE index_lock = shared->concurrent ? RowExclusiveLock : AccessExclusiveLock;
    Relation heap = table_open(shared->heap_relid, heap_lock);
    Relation index = index_open(shared->index_relid, index_lock);
    IndexInfo *index_info = BuildIndexInfo(index);
    index_info->ii_Concurrent = shared->concurrent;
    auto *sort = static_cast<Sharedsort *>(shm_toc_lookup(toc, kKeySort, false));
    tuplesort_attach_shared(sort, segment);
    participate(shared, static_cast<ParallelTableScanDesc>(shm_toc_lookup(toc, kKeyHeapScan, false)), sort,
                static_cast<const float *>(shm_toc_lookup(toc, kKeyCentres, false)),
                static_cast<pg_atomic_uint64 *>(shm_toc_lookup(toc, kKeyRowsPerList, false)), heap, index,
                index_info, false);
    index_close(index, index_lock);
    table_close(heap, heap_lock);
}

}  // namespace

int ivfflat_parallel_workers(Relation heap, Relation index, int64 rows)
{
    if (rows < kIvfflatMinParallelRows)
        return 0;
    return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
}

bool ivfflat_parallel_assign(int workers, Relation heap, Relation index, IndexInfo *index_info,
                             const float *centres, const float *centre_norms, int lists, int dimensions,
                             int64 *rows_per_list, IvfflatParallelResult *result)
{
    // A concurrent build sees the rows of its snapshot; otherwise all rows, as a serial
    // build's scan does.
    const bool concurrent = index_info->ii_Concurrent;
    Snapshot snapshot = concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
    const int sorts = workers + 1;
    const Size heap_scan_bytes = table_parallelscan_estimate(heap, snapshot);
    const Size sort_bytes = tuplesort_estimate_shared(sorts);
    const Size centre_bytes = sizeof(float) * (static_cast<Size>(dimensions) + 1) * lists;
    const Size count_bytes = sizeof(pg_atomic_uint64) * lists;
    const Size query_bytes = debug_query_string != nullptr ? strlen(debug_query_string) + 1 : 0;

    EnterParallelMode();
    ParallelContext *context = CreateParallelContext("ann", "ivfflat_parallel_build_main", workers);
    shm_toc_estimate_chunk(&context->estimator, sizeof(SharedAssign));
    shm_toc_estimate_chunk(&context->estimator, heap_scan_bytes);
    shm_toc_estimate_chunk(&context->estimator, sort_bytes);
    shm_toc_estimate_chunk(&context->estimator, centre_bytes);
    shm_toc_estimate_chunk(&context->estimator, count_bytes);
    shm_toc_estimate_keys(&context->estimator, 5);
    if (query_bytes > 0) {
        shm_toc_estimate_chunk(&context->estimator, query_bytes);
        shm_toc_estimate_keys(&context->estimator, 1);
    }
    InitializeParallelDSM(context);
    // Without a DSM segment there is nothing to share: the caller builds serially.
    if (context->seg == nullptr) {
        if (IsMVCCSnapshot(snapshot))
            UnregisterSnapshot(snapshot);
        DestroyParallelContext(context);
        ExitParallelMode();
        return false;
    }

    auto *shared = static_cast<SharedAssign *>(shm_toc_allocate(context->toc, sizeof(SharedAssign)));
    shared->heap_relid = RelationGetRelid(heap);
    shared->index_relid = RelationGetRelid(index);
    shared->concurrent = concurrent;
    shared->lists = lists;
    shared->dimensions = dimensions;
    shared->participant_work_mem = maintenance_work_mem / sorts;
    pg_atomic_init_u64(&shared->rows_done, 0);
    SpinLockInit(&shared->mutex);
    shared->heap_tuples = 0;
    shared->rows = 0;
    auto *heap_scan = static_cast<ParallelTableScanDesc>(shm_toc_allocate(context->toc, heap_scan_bytes));
    table_parallelscan_initialize(heap, heap_scan, snapshot);
    auto *sort = static_cast<Sharedsort *>(shm_toc_allocate(context->toc, sort_bytes));
    tuplesort_initialize_shared(sort, sorts, context->seg);
    auto *shared_centres = static_cast<float *>(shm_toc_allocate(context->toc, centre_bytes));
    memcpy(shared_centres, centres, sizeof(float) * dimensions * static_cast<Size>(lists));
    memcpy(shared_centres + static_cast<Size>(dimensions) * lists, centre_norms, sizeof(float) * lists);
    auto *shared_rows_per_list = static_cast<pg_atomic_uint64 *>(shm_toc_allocate(context->toc, count_bytes));
    for (int l = 0; l < lists; l++)
        pg_atomic_init_u64(&shared_rows_per_list[l], 0);
    shm_toc_insert(context->toc, kKeyShared, shared);
    shm_toc_insert(context->toc, kKeyHeapScan, heap_scan);
    shm_toc_insert(context->toc, kKeySort, sort);
    shm_toc_insert(context->toc, kKeyCentres, shared_centres);
    shm_toc_insert(context->toc, kKeyRowsPerList, shared_rows_per_list);
    if (query_bytes > 0) {
        char *query = static_cast<char *>(shm_toc_allocate(context->toc, query_bytes));
        memcpy(query, debug_query_string, query_bytes);
        shm_toc_insert(context->toc, kKeyQueryText, query);
    }

    LaunchParallelWorkers(context);
    // With no worker started the leader does all the work, whatever the setting says.
    const bool leader_participates = parallel_leader_participation || context->nworkers_launched == 0;
    const int64 leader_rows = leader_participates ? participate(shared, heap_scan, sort, shared_centres,
                                                                shared_rows_per_list, heap, index, index_info, true)
                                                  : 0;
    WaitForParallelWorkersToFinish(context);

    for (int l = 0; l < lists; l++)
        rows_per_list[l] = static_cast<int64>(pg_atomic_read_u64(&shared_rows_per_list[l]));
    auto *coordinate = static_cast<SortCoordinate>(palloc0(sizeof(SortCoordinateData)));
    coordinate->isWorker = false;
    coordinate->nParticipants = context->nworkers_launched + (leader_participates ? 1 : 0);
    coordinate->sharedsort = sort;
    auto *assign = static_cast<IvfflatParallelAssign *>(palloc(sizeof(IvfflatParallelAssign)));
    assign->context = context;
    assign->snapshot = snapshot;
    result->assign = assign;
    result->coordinate = coordinate;
    result->heap_tuples = shared->heap_tuples;
    result->rows = shared->rows;
    ereport(DEBUG1, (errmsg("ivfflat build: %d parallel workers assigned %lld of %lld rows",
                            context->nworkers_launched, static_cast<long long>(shared->rows - leader_rows),
                            static_cast<long long>(shared->rows))));
    return true;
}

void ivfflat_parallel_end(IvfflatParallelAssign *assign)
{
    if (IsMVCCSnapshot(assign->snapshot))
        UnregisterSnapshot(assign->snapshot);
    DestroyParallelContext(assign->context);
    ExitParallelMode();
    pfree(assign);
}

}  // namespace ann::pg

extern "C" PGDLLEXPORT void ivfflat_parallel_build_main(dsm_segment *segment, shm_toc *toc);

void ivfflat_parallel_build_main(dsm_segment *segment, shm_toc *toc)
{
    ann::pg::guarded_call("ivfflat parallel build", [&]() { ann::pg::worker_main(segment, toc); });
}
