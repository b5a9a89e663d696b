#include "pg/hnsw_parallel_build.hpp"

#include <type_traits>

#include "core/hnsw_build.h"
#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shm_toc.h"
}

namespace ann::pg {

namespace {

constexpr uint64 kKeyShared = UINT64CONST(0xA11E000000000001);
constexpr uint64 kKeyVectors = UINT64CONST(0xA11E000000000002);
constexpr uint64 kKeyGraph = UINT64CONST(0xA11E000000000003);
constexpr uint64 kKeyLocks = UINT64CONST(0xA11E000000000004);
constexpr const char *kLockTrancheName = "ann_hnsw_build";

struct SharedBuild {
    pg_atomic_uint32 next_node;
    uint32 count;
    uint32 dimensions;
    int lock_tranche;
    Size graph_bytes;
};

// One lock per node, then the entry-point lock.
struct NodeLocks {
    LWLock *locks;
    uint32 count;
};

void lock_node(void *context, std::uint32_t node) noexcept
{
    LWLockAcquire(&static_cast<NodeLocks *>(context)->locks[node], LW_EXCLUSIVE);
}

void unlock_node(void *context, std::uint32_t node) noexcept
{
    LWLockRelease(&static_cast<NodeLocks *>(context)->locks[node]);
}

void lock_entry(void *context) noexcept
{
    const auto *locks = static_cast<NodeLocks *>(context);
    LWLockAcquire(&locks->locks[locks->count], LW_EXCLUSIVE);
}

void unlock_entry(void *context) noexcept
{
    const auto *locks = static_cast<NodeLocks *>(context);
    LWLockRelease(&locks->locks[locks->count]);
}

static_assert(std::is_trivially_destructible_v<core::HnswGraph> &&
                  std::is_trivially_destructible_v<core::HnswBuilder>,
              "core objects live across calls that may ereport (longjmp)");

// What the leader and each worker run: attach to the shared graph and insert claimed nodes
// until none are left. The leader also reports progress.
void insert_claimed_nodes(SharedBuild *shared, const float *vectors, void *graph_memory, LWLock *locks,
                          bool is_leader)
{
    LWLockRegisterTranche(shared->lock_tranche, kLockTrancheName);
    NodeLocks node_locks{locks, shared->count};
    const core::HnswLocking locking{&node_locks, lock_node, unlock_node, lock_entry, unlock_entry};

    core::HnswGraph graph;
    if (graph.attach(graph_memory, shared->graph_bytes, vectors) != core::HnswStatus::ok)
        elog(ERROR, "could not attach to the shared hnsw graph");
    core::HnswBuilder builder;
    if (builder.init(graph, palloc_hooks(CurrentMemoryContext), &locking) != core::HnswStatus::ok)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory preparing the hnsw build")));
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        const uint32 node = pg_atomic_fetch_add_u32(&shared->next_node, 1);
        if (node >= shared->count)
            break;
        if (builder.insert(node) != core::HnswStatus::ok)
            ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory building the hnsw graph")));
        if (is_leader && (node & 1023) == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, node);
    }
    builder.release();
}

}  // namespace

int hnsw_parallel_workers(Relation heap, Relation index, uint32 rows)
{
    if (rows < kHnswMinParallelRows)
        return 0;
    return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
}

void hnsw_parallel_insert_all(int workers, const core::HnswParams &params, uint32 count,
                              const float *vectors, void *graph_memory, Size graph_bytes)
{
    const Size vector_bytes = sizeof(float) * static_cast<Size>(params.dimensions) * count;
    const Size lock_bytes = sizeof(LWLock) * (static_cast<Size>(count) + 1);

    EnterParallelMode();
    ParallelContext *pcxt = CreateParallelContext("ann", "hnsw_parallel_build_main", workers);
    shm_toc_estimate_chunk(&pcxt->estimator, sizeof(SharedBuild));
    shm_toc_estimate_chunk(&pcxt->estimator, vector_bytes);
    shm_toc_estimate_chunk(&pcxt->estimator, graph_bytes);
    shm_toc_estimate_chunk(&pcxt->estimator, lock_bytes);
    shm_toc_estimate_keys(&pcxt->estimator, 4);
    InitializeParallelDSM(pcxt);

    auto *shared = static_cast<SharedBuild *>(shm_toc_allocate(pcxt->toc, sizeof(SharedBuild)));
    pg_atomic_init_u32(&shared->next_node, 0);
    shared->count = count;
    shared->dimensions = params.dimensions;
    shared->lock_tranche = LWLockNewTrancheId();
    shared->graph_bytes = graph_bytes;
    auto *shared_vectors = static_cast<float *>(shm_toc_allocate(pcxt->toc, vector_bytes));
    memcpy(shared_vectors, vectors, vector_bytes);
    void *shared_graph = shm_toc_allocate(pcxt->toc, graph_bytes);
    auto *locks = static_cast<LWLock *>(shm_toc_allocate(pcxt->toc, lock_bytes));
    for (uint32 i = 0; i <= count; i++)
        LWLockInitialize(&locks[i], shared->lock_tranche);
    core::HnswGraph graph;
    if (graph.init(shared_graph, graph_bytes, params, count, shared_vectors) != core::HnswStatus::ok)
        elog(ERROR, "could not lay out an hnsw graph of %u nodes", count);
    shm_toc_insert(pcxt->toc, kKeyShared, shared);
    shm_toc_insert(pcxt->toc, kKeyVectors, shared_vectors);
    shm_toc_insert(pcxt->toc, kKeyGraph, shared_graph);
    shm_toc_insert(pcxt->toc, kKeyLocks, locks);

    LaunchParallelWorkers(pcxt);
    insert_claimed_nodes(shared, shared_vectors, shared_graph, locks, true);
    WaitForParallelWorkersToFinish(pcxt);

    memcpy(graph_memory, shared_graph, graph_bytes);
    DestroyParallelContext(pcxt);
    ExitParallelMode();
}

}  // namespace ann::pg

extern "C" PGDLLEXPORT void hnsw_parallel_build_main(dsm_segment *segment, shm_toc *toc);

void hnsw_parallel_build_main(dsm_segment *segment, shm_toc *toc)
{
    (void)segment;
    ann::pg::guarded_call("hnsw parallel build", [&]() {
        auto *shared = static_cast<ann::pg::SharedBuild *>(shm_toc_lookup(toc, ann::pg::kKeyShared, false));
        ann::pg::insert_claimed_nodes(shared, static_cast<const float *>(shm_toc_lookup(toc, ann::pg::kKeyVectors, false)),
                                      shm_toc_lookup(toc, ann::pg::kKeyGraph, false),
                                      static_cast<LWLock *>(shm_toc_lookup(toc, ann::pg::kKeyLocks, false)), false);
    });
}
