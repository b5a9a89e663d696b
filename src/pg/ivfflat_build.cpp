// CREATE INDEX for ivfflat, in three phases reported to pg_stat_progress_create_index:
//   k-means:  a reservoir sample of the heap's vectors is clustered by the core into `lists`
//             centres (checking for interrupts between slices of the work);
//   assign:   a second heap scan puts every row in the list of its nearest centre, into a
//             tuplesort on the list number and heap TID (bounded by maintenance_work_mem,
//             spilling past it); with parallel workers where allowed and worth it
//             (ivfflat_parallel_build.cpp), giving the same index;
//   load:     the index is written in one sequential pass, each list's rows on consecutive
//             pages, and WAL-logged in bulk.
#include "pg/ivfflat.hpp"

#include <type_traits>

#include "core/kmeans.h"
#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/ivfflat_pages.hpp"
#include "pg/ivfflat_parallel_build.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/tuplesort.h"
}

namespace ann::pg {

namespace {

// The sample, and so the centres, are a pure function of the heap's contents and order.
constexpr uint64 kSampleSeed = 0x6976666C61742D31;
constexpr uint64 kKmeansSeed = 0x6B6D65616E732B2B;

// Rows sampled per list. On GloVe-100 (200,000 rows, 200 lists) recall@10 at 16 probes was
// 0.940 from 50 rows per list, 0.953 from 100; 150 and 300 gained nothing more. Where the
// sample does not fit in maintenance_work_mem it shrinks, down to kMinSamplesPerList.
constexpr int kSamplesPerList = 100;
constexpr int kMinSamplesPerList = 20;
constexpr int kMinSamples = 10000;
// Iterations after k-means++ seeding. The same measurement gave the same recall after 10, 15
// and 44 iterations (convergence), while each costs a pass over the sample.
constexpr uint32 kMaxKmeansIterations = 15;

static_assert(std::is_trivially_destructible_v<core::Kmeans>,
              "core objects live across calls that may ereport (longjmp)");

struct IvfflatBuildState {
    Relation index;
    IndexMetric metric;
    int dimensions;
    int lists;
    bool spherical;
    MemoryContext build_context;
    MemoryContext row_context;

    // k-means phase: a reservoir sample.
    float *samples;
    int64 sample_target;
    int64 sample_count;
    int64 rows_seen;
    pg_prng_state random;

    // assign phase
    const float *centres;
    const float *centre_norms;
    int64 *rows_per_list;
    int64 rows_indexed;
    pg_atomic_uint64 *shared_rows_done;  // parallel: every participant's rows, for progress
    bool reports_progress;
    TupleDesc sort_desc;
    TupleTableSlot *slot;
    Tuplesortstate *sort;
    Vector *row_vector;  // scratch varlena handed to the tuplesort
};

void report_out_of_memory(const char *what)
{
    ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while %s", what),
                    errhint("Reduce maintenance_work_mem or free memory on the server.")));
}

int column_dimensions(Relation index)
{
    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    if (typmod <= 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("column does not have dimensions"),
                        errhint("ivfflat needs a column declared with its dimensions, as vector(3).")));
    if (typmod > kIvfflatMaxDimensions)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for ivfflat index",
                               kIvfflatMaxDimensions)));
    return typmod;
}

// The row's vector as the index keeps it, in `out`; false for a vector the index skips (a
// zero vector under cosine, which has no direction).
bool index_vector(const IvfflatBuildState &state, Datum value, float *out)
{
    const Vector *vector = datum_get_vector(value);
    if (vector->dim != state.dimensions)
        report_unexpected_dim(state.dimensions, vector->dim);
    memcpy(out, vector->x, sizeof(float) * state.dimensions);
    return normalize_for_metric(state.metric, out, state.dimensions);
}

void sample_callback(Relation, ItemPointer, Datum *values, bool *isnull, bool, void *opaque)
{
    auto &state = *static_cast<IvfflatBuildState *>(opaque);
    if (isnull[0])
        return;
    MemoryContext old = MemoryContextSwitchTo(state.row_context);
    float *vector = static_cast<float *>(palloc(sizeof(float) * state.dimensions));
    if (index_vector(state, values[0], vector)) {
        // Reservoir sampling (Algorithm R): every row seen so far is in the sample with the
        // same probability.
        state.rows_seen++;
        int64 slot = state.sample_count;
        if (state.sample_count == state.sample_target) {
            slot = static_cast<int64>(pg_prng_uint64_range(&state.random, 0, state.rows_seen - 1));
            if (slot >= state.sample_target)
                slot = -1;
        } else {
            state.sample_count++;
        }
        if (slot >= 0)
            memcpy(state.samples + slot * state.dimensions, vector, sizeof(float) * state.dimensions);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state.row_context);
}

// The rows to sample: kSamplesPerList per list (at least kMinSamples), fewer when k-means
// would not fit in maintenance_work_mem, and an error when even kMinSamplesPerList would not.
int64 sample_target(const IvfflatBuildState &state)
{
    const double per_sample = sizeof(float) * (state.dimensions + 4.0);  // the vector, bounds, norm
    const double fixed = static_cast<double>(state.lists) * state.dimensions * (sizeof(float) + sizeof(double));
    const double budget = static_cast<double>(maintenance_work_mem) * 1024.0;
    const int64 wanted = Max(static_cast<int64>(state.lists) * kSamplesPerList, static_cast<int64>(kMinSamples));
    const int64 fitting = static_cast<int64>(Max(0.0, (budget - fixed) / per_sample));
    const int64 least = static_cast<int64>(state.lists) * kMinSamplesPerList;
    if (fitting < least) {
        const double needed = fixed + per_sample * least;
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("ivfflat k-means needs %.0f MB of memory, more than maintenance_work_mem (%d MB)",
                               std::ceil(needed / (1024.0 * 1024.0)), maintenance_work_mem / 1024),
                        errhint("Increase maintenance_work_mem or use fewer lists.")));
    }
    return Min(wanted, fitting);
}

// Clusters the sample; returns the centres (lists x dimensions) in the build context.
const float *cluster_sample(IvfflatBuildState &state)
{
    core::KmeansParams params;
    params.dimensions = static_cast<uint32>(state.dimensions);
    params.clusters = static_cast<uint32>(state.lists);
    params.max_iterations = kMaxKmeansIterations;
    params.spherical = state.spherical;
    params.seed = kKmeansSeed;
    core::Kmeans kmeans;
    const core::KmeansStatus status = kmeans.init(palloc_hooks(state.build_context), params, state.samples,
                                                  static_cast<uint32>(state.sample_count));
    if (status == core::KmeansStatus::out_of_memory)
        report_out_of_memory("preparing ivfflat k-means");
    if (status != core::KmeansStatus::ok)
        elog(ERROR, "ivfflat k-means rejected its parameters");
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (!kmeans.step())
            break;
    }
    const Size bytes = sizeof(float) * state.dimensions * static_cast<Size>(state.lists);
    float *centres = static_cast<float *>(MemoryContextAllocHuge(state.build_context, bytes));
    memcpy(centres, kmeans.centres(), bytes);
    kmeans.release();
    return centres;
}

void report_rows_assigned(IvfflatBuildState &state, int64 rows)
{
    int64 done = state.rows_indexed;
    if (state.shared_rows_done != nullptr)
        done = static_cast<int64>(pg_atomic_add_fetch_u64(state.shared_rows_done, rows));
    if (state.reports_progress)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
}

void assign_callback(Relation, ItemPointer heap_tid, Datum *values, bool *isnull, bool, void *opaque)
{
    auto &state = *static_cast<IvfflatBuildState *>(opaque);
    if (isnull[0])
        return;
    MemoryContext old = MemoryContextSwitchTo(state.row_context);
    if (index_vector(state, values[0], state.row_vector->x)) {
        const uint32 list = core::nearest_centre(state.centres, state.centre_norms, static_cast<uint32>(state.lists),
                                                 static_cast<uint32>(state.dimensions), state.spherical,
                                                 state.row_vector->x);
        state.rows_per_list[list]++;
        TupleTableSlot *slot = state.slot;
        ExecClearTuple(slot);
        slot->tts_values[0] = Int32GetDatum(static_cast<int32>(list));
        slot->tts_isnull[0] = false;
        slot->tts_values[1] = PointerGetDatum(heap_tid);
        slot->tts_isnull[1] = false;
        slot->tts_values[2] = PointerGetDatum(state.row_vector);
        slot->tts_isnull[2] = false;
        ExecStoreVirtualTuple(slot);
        tuplesort_puttupleslot(state.sort, slot);
        if ((++state.rows_indexed & 1023) == 0)
            report_rows_assigned(state, 1024);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state.row_context);
}

// Sorted by list and then heap TID: each list's rows in heap order, which does not depend on
// where a synchronised scan started or which participant read them.
void begin_sort(IvfflatBuildState &state, int work_mem, SortCoordinate coordinate)
{
    state.sort_desc = CreateTemplateTupleDesc(3);
    TupleDescInitEntry(state.sort_desc, 1, "list", INT4OID, -1, 0);
    TupleDescInitEntry(state.sort_desc, 2, "heap_tid", TIDOID, -1, 0);
    TupleDescInitEntry(state.sort_desc, 3, "vector", TupleDescAttr(RelationGetDescr(state.index), 0)->atttypid, -1, 0);
    state.slot = MakeSingleTupleTableSlot(state.sort_desc, &TTSOpsMinimalTuple);
    AttrNumber keys[] = {1, 2};
    Oid less[] = {Int4LessOperator, TIDLessOperator};
    Oid collations[] = {InvalidOid, InvalidOid};
    bool nulls_first[] = {false, false};
    state.sort = tuplesort_begin_heap(state.sort_desc, 2, keys, less, collations, nulls_first, work_mem,
                                      coordinate, TUPLESORT_NONE);
    state.row_vector = vector_alloc(state.dimensions);
}

void next_sorted_row(void *context, float *vector, ItemPointer heap_tid)
{
    auto &state = *static_cast<IvfflatBuildState *>(context);
    if (!tuplesort_gettupleslot(state.sort, true, false, state.slot, nullptr))
        elog(ERROR, "ivfflat build ran out of sorted rows");
    bool isnull;
    *heap_tid = *reinterpret_cast<ItemPointer>(DatumGetPointer(slot_getattr(state.slot, 2, &isnull)));
    // The sort stores small vectors with short varlena headers: detoast to the full form.
    const Vector *value = datum_get_vector(slot_getattr(state.slot, 3, &isnull));
    memcpy(vector, value->x, sizeof(float) * state.dimensions);
    if (reinterpret_cast<const void *>(value) != DatumGetPointer(slot_getattr(state.slot, 3, &isnull)))
        pfree(const_cast<Vector *>(value));
}

IvfflatMeta index_meta(const IvfflatBuildState &state)
{
    IvfflatMeta meta;
    meta.dimensions = state.dimensions;
    meta.lists = state.lists;
    meta.list_pages = 0;  // ivfflat_write_index lays them out
    meta.spherical = state.spherical;
    return meta;
}

void init_state(IvfflatBuildState &state, Relation index)
{
    memset(&state, 0, sizeof(state));
    state.index = index;
    state.metric = index_metric(index);
    state.dimensions = column_dimensions(index);
    state.lists = ivfflat_option_lists(index);
    state.spherical = ivfflat_spherical(index);
    state.build_context = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build", ALLOCSET_DEFAULT_SIZES);
    state.row_context = AllocSetContextCreate(state.build_context, "ivfflat build row", ALLOCSET_DEFAULT_SIZES);
    state.reports_progress = true;
}

IndexBuildResult *build(Relation heap, Relation index, IndexInfo *index_info)
{
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    IvfflatBuildState state;
    init_state(state, index);
    MemoryContext old = MemoryContextSwitchTo(state.build_context);

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kIvfflatPhaseKmeans);
    state.sample_target = sample_target(state);
    state.samples = static_cast<float *>(
        MemoryContextAllocHuge(state.build_context, sizeof(float) * state.dimensions * state.sample_target));
    pg_prng_seed(&state.random, kSampleSeed);
    // No synchronised scan: the sample must not depend on where another scan happens to be.
    table_index_build_scan(heap, index, index_info, false, true, sample_callback, &state, nullptr);
    if (state.sample_count < state.lists)
        // pgvector's message, which deployment scripts look for; the detail says why.
        ereport(NOTICE, (errmsg("ivfflat index created with little data"),
                         errdetail("It was built from %lld rows for %d lists; lists without rows get placeholder "
                                   "centres, so recall is low until the index is rebuilt.",
                                   static_cast<long long>(state.sample_count), state.lists),
                         errhint("Create the index once the table holds its data, or REINDEX it then.")));

    state.centres = cluster_sample(state);
    pfree(state.samples);
    state.samples = nullptr;

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kIvfflatPhaseAssign);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, state.rows_seen);
    state.rows_per_list = static_cast<int64 *>(palloc0(sizeof(int64) * state.lists));
    float *centre_norms = static_cast<float *>(palloc(sizeof(float) * state.lists));
    core::centre_norms(state.centres, static_cast<uint32>(state.lists), static_cast<uint32>(state.dimensions),
                       centre_norms);
    state.centre_norms = centre_norms;
    const int workers = ivfflat_parallel_workers(heap, index, state.rows_seen);
    IvfflatParallelResult parallel{};
    double heap_tuples;
    if (workers > 0 && ivfflat_parallel_assign(workers, heap, index, index_info, state.centres, state.centre_norms,
                                               state.lists, state.dimensions, state.rows_per_list, &parallel)) {
        begin_sort(state, maintenance_work_mem, parallel.coordinate);
        heap_tuples = parallel.heap_tuples;
        state.rows_indexed = parallel.rows;
    } else {
        begin_sort(state, maintenance_work_mem, nullptr);
        heap_tuples = table_index_build_scan(heap, index, index_info, true, true, assign_callback, &state, nullptr);
    }
    tuplesort_performsort(state.sort);

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kIvfflatPhaseLoad);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, state.rows_indexed);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
    const IvfflatRowSource rows{&state, next_sorted_row};
    ivfflat_write_index(index, MAIN_FORKNUM, index_meta(state), state.centres, state.rows_per_list, rows);
    tuplesort_end(state.sort);
    ExecDropSingleTupleTableSlot(state.slot);
    if (parallel.assign != nullptr)
        ivfflat_parallel_end(parallel.assign);

    MemoryContextSwitchTo(old);
    auto *result = static_cast<IndexBuildResult *>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = heap_tuples;
    result->index_tuples = static_cast<double>(state.rows_indexed);
    MemoryContextDelete(state.build_context);
    return result;
}

void no_rows(void *, float *, ItemPointer)
{
    elog(ERROR, "an empty ivfflat index has no rows to write");
}

// The init fork of an unlogged index: lists with placeholder centres and no rows.
void build_empty(Relation index)
{
    IvfflatBuildState state;
    init_state(state, index);
    MemoryContext old = MemoryContextSwitchTo(state.build_context);
    state.centres = cluster_sample(state);
    state.rows_per_list = static_cast<int64 *>(palloc0(sizeof(int64) * state.lists));
    const IvfflatRowSource rows{&state, no_rows};
    ivfflat_write_index(index, INIT_FORKNUM, index_meta(state), state.centres, state.rows_per_list, rows);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(state.build_context);
}

}  // namespace

IvfflatShareTotals ivfflat_assign_share(Relation heap, Relation index, IndexInfo *index_info, TableScanDesc scan,
                                        const float *centres, const float *centre_norms, int work_mem,
                                        SortCoordinate coordinate, pg_atomic_uint64 *rows_per_list,
                                        pg_atomic_uint64 *rows_done, bool is_leader)
{
    IvfflatBuildState state;
    init_state(state, index);
    MemoryContext old = MemoryContextSwitchTo(state.build_context);
    state.centres = centres;
    state.centre_norms = centre_norms;
    state.rows_per_list = static_cast<int64 *>(palloc0(sizeof(int64) * state.lists));
    state.shared_rows_done = rows_done;
    state.reports_progress = is_leader;
    begin_sort(state, work_mem, coordinate);
    IvfflatShareTotals totals;
    totals.heap_tuples = table_index_build_scan(heap, index, index_info, true, is_leader, assign_callback, &state,
                                                scan);
    report_rows_assigned(state, state.rows_indexed & 1023);
    totals.rows = state.rows_indexed;
    tuplesort_performsort(state.sort);
    tuplesort_end(state.sort);
    ExecDropSingleTupleTableSlot(state.slot);
    for (int l = 0; l < state.lists; l++)
        if (state.rows_per_list[l] != 0)
            pg_atomic_fetch_add_u64(&rows_per_list[l], static_cast<uint64>(state.rows_per_list[l]));
    MemoryContextSwitchTo(old);
    MemoryContextDelete(state.build_context);
    return totals;
}

IndexBuildResult *ivfflat_build(Relation heap, Relation index, IndexInfo *index_info)
{
    return guarded_call("ivfflat build", [&]() { return build(heap, index, index_info); });
}

void ivfflat_build_empty(Relation index)
{
    guarded_call("ivfflat build", [&]() { build_empty(index); });
}

}  // namespace ann::pg
