// CREATE INDEX for hnsw: the heap's vectors are read into memory, the core links them into
// a graph (with parallel workers where allowed), and the graph is laid out on pages in one
// sequential pass, WAL-logged in bulk.
// Rows that do not fit in maintenance_work_mem are inserted one by one into the written
// graph, as later INSERTs are.
#include "pg/hnsw.hpp"

#include <type_traits>

#include "core/hnsw_build.h"
#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw_pages.hpp"
#include "pg/hnsw_parallel_build.hpp"
#include "pg/index_metric.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/timestamp.h"
}

namespace ann::pg {

namespace {

// Levels are a pure function of this seed and the row's position in the heap scan, so the
// same table builds the same graph.
constexpr uint64 kLevelSeed = 0x616E6E2D686E7377;

static_assert(std::is_trivially_destructible_v<core::HnswGraph> &&
                  std::is_trivially_destructible_v<core::HnswBuilder>,
              "core objects live across calls that may ereport (longjmp)");

struct HnswBuildState {
    Relation heap;
    Relation index;
    IndexMetric metric;
    int dimensions;  // 0 until the first row when the column has no typmod
    int m;
    int ef_construction;
    MemoryContext build_context;
    MemoryContext row_context;

    // Rows gathered for the in-memory graph.
    float *vectors;
    ItemPointerData *heap_tids;
    uint32 count;
    uint32 capacity;
    uint32 memory_row_limit;  // rows that fit in maintenance_work_mem with their graph

    bool graph_written;  // past the memory limit: rows now go through hnsw_insert_vector
    double index_tuples;
};

core::HnswMetric core_metric(IndexMetric metric)
{
    switch (metric) {
        case IndexMetric::l2_squared:
            return core::HnswMetric::l2_squared;
        case IndexMetric::l1:
            return core::HnswMetric::l1;
        case IndexMetric::inner_product:
        case IndexMetric::cosine:
            return core::HnswMetric::negative_inner_product;
    }
    pg_unreachable();
}

core::HnswParams graph_params(const HnswBuildState &state)
{
    core::HnswParams params;
    params.dimensions = static_cast<uint32>(state.dimensions);
    params.m = static_cast<uint32>(state.m);
    params.ef_construction = static_cast<uint32>(state.ef_construction);
    params.metric = core_metric(state.metric);
    params.seed = kLevelSeed;
    params.max_level = static_cast<uint32>(HnswElementLayout::for_index(state.dimensions, state.m).max_level());
    return params;
}

void report_out_of_memory(const char *what)
{
    ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while %s", what),
                    errhint("Reduce maintenance_work_mem or free memory on the server.")));
}

void add_row(HnswBuildState &state, const float *vector, ItemPointer heap_tid)
{
    if (state.count == state.capacity) {
        const uint32 capacity = Min(Max(state.capacity * 2, 1024u), state.memory_row_limit);
        MemoryContext old = MemoryContextSwitchTo(state.build_context);
        if (state.vectors == nullptr) {
            state.vectors = static_cast<float *>(
                MemoryContextAllocHuge(state.build_context, sizeof(float) * state.dimensions * capacity));
            state.heap_tids = static_cast<ItemPointerData *>(
                MemoryContextAllocHuge(state.build_context, sizeof(ItemPointerData) * capacity));
        } else {
            state.vectors = static_cast<float *>(
                repalloc_huge(state.vectors, sizeof(float) * state.dimensions * capacity));
            state.heap_tids = static_cast<ItemPointerData *>(
                repalloc_huge(state.heap_tids, sizeof(ItemPointerData) * capacity));
        }
        MemoryContextSwitchTo(old);
        state.capacity = capacity;
    }
    memcpy(state.vectors + static_cast<Size>(state.count) * state.dimensions, vector,
           sizeof(float) * state.dimensions);
    state.heap_tids[state.count] = *heap_tid;
    state.count++;
}

// --- Laying the graph out on pages -------------------------------------------------------

// One tuple to write: an element, or chunk `chunk` of its vector or overflow heap TIDs.
struct PlacedTuple {
    uint32 node;
    HnswTupleKind kind;
    uint32 chunk;
    Size size;
    ItemPointerData tid;
};

// Heap TIDs an overflow tuple holds at most.
constexpr int kHeapTidsPerChunk =
    static_cast<int>((kHnswMaxTupleSize - offsetof(HnswHeapTidsTuple, heap_tids)) / sizeof(ItemPointerData));

// What writing the pages adds per row while the graph is still held (write_graph): the
// layout order and its marks, each tuple's plan and TID, and three TID arrays.
constexpr double kWriteBytesPerRow = sizeof(uint32) + sizeof(bool) + sizeof(PlacedTuple) + 4 * sizeof(ItemPointerData);

// Rows of `dim` dimensions that fit in maintenance_work_mem together with their graph and
// what writing it out takes.
uint32 memory_row_limit(const HnswBuildState &state)
{
    constexpr uint32 kSampleRows = 100000;
    const Size graph_bytes = core::HnswGraph::required_bytes(graph_params(state), kSampleRows);
    const double per_row = sizeof(float) * state.dimensions + sizeof(ItemPointerData) +
                           static_cast<double>(graph_bytes) / kSampleRows + kWriteBytesPerRow;
    const double budget = static_cast<double>(maintenance_work_mem) * 1024.0;
    return static_cast<uint32>(Min(Max(budget / per_row, 1.0), static_cast<double>(core::HnswGraph::kMaxCapacity)));
}

// Fills pages in order, as PageAddItem will: predicts the TID each tuple gets.
class PagePlanner {
public:
    explicit PagePlanner(BlockNumber first_block) : block_(first_block) { start_page(); }

    ItemPointerData place(Size size)
    {
        if (lower_ + static_cast<int>(sizeof(ItemIdData)) > upper_ - static_cast<int>(MAXALIGN(size))) {
            block_++;
            start_page();
        }
        ItemPointerData tid;
        ItemPointerSet(&tid, block_, offset_++);
        lower_ += sizeof(ItemIdData);
        upper_ -= MAXALIGN(size);
        return tid;
    }

    BlockNumber last_block() const { return block_; }

private:
    void start_page()
    {
        lower_ = SizeOfPageHeaderData;
        upper_ = BLCKSZ - MAXALIGN(sizeof(HnswPageOpaque));
        offset_ = FirstOffsetNumber;
    }

    BlockNumber block_;
    int lower_ = 0;
    int upper_ = 0;
    OffsetNumber offset_ = FirstOffsetNumber;
};

uint32 heap_tid_total(const core::HnswGraph &graph, uint32 node)
{
    uint32 total = 1;
    for (uint32 copy = graph.next_copy(node); copy != core::HnswGraph::kNoNode; copy = graph.next_copy(copy))
        total++;
    return total;
}

// Linked nodes in breadth-first order from the entry point, so that a node's neighbours tend
// to share its page and a scan expanding it reads fewer pages. Nodes the walk misses (none
// in a healthy graph) follow in id order.
uint32 layout_order(const core::HnswGraph &graph, uint32 count, uint32 *order)
{
    bool *placed = static_cast<bool *>(palloc_extended(count, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
    uint32 placed_count = 0;
    const uint32 entry = graph.entry_point();
    if (entry != core::HnswGraph::kNoNode) {
        order[placed_count++] = entry;
        placed[entry] = true;
        for (uint32 head = 0; head < placed_count; head++) {
            const core::HnswGraph::Links links = graph.links(order[head], 0);
            for (uint32 i = 0; i < links.count; i++) {
                if (!placed[links.ids[i]]) {
                    placed[links.ids[i]] = true;
                    order[placed_count++] = links.ids[i];
                }
            }
        }
    }
    for (uint32 node = 0; node < count; node++) {
        if (!placed[node] && graph.copy_of(node) == core::HnswGraph::kNoNode)
            order[placed_count++] = node;
    }
    pfree(placed);
    return placed_count;
}

// Heap TIDs of `node` and its copies, in copy-chain order.
uint32 collect_heap_tids(const core::HnswGraph &graph, const ItemPointerData *heap_tids,
                         uint32 node, ItemPointerData *out)
{
    uint32 n = 0;
    for (uint32 at = node; at != core::HnswGraph::kNoNode; at = graph.next_copy(at))
        out[n++] = heap_tids[at];
    return n;
}

class PageWriter {
public:
    PageWriter(Relation index) : index_(index)
    {
        page_ = static_cast<Page>(palloc(BLCKSZ));
    }

    // Appends `tuple` to the page of `tid` (tuples arrive in placement order).
    void add(const ItemPointerData &tid, const void *tuple, Size size)
    {
        const BlockNumber block = ItemPointerGetBlockNumber(&tid);
        if (block != block_) {
            flush();
            hnsw_init_page(page_, kHnswPageElements);
            block_ = block;
        }
        const OffsetNumber offset = PageAddItem(page_, static_cast<Item>(const_cast<void *>(tuple)),
                                                size, InvalidOffsetNumber, false, false);
        if (offset != ItemPointerGetOffsetNumber(&tid))
            elog(ERROR, "hnsw build placed a tuple at offset %u of block %u, planned %u", offset,
                 block, ItemPointerGetOffsetNumber(&tid));
    }

    void flush()
    {
        if (block_ == InvalidBlockNumber)
            return;
        Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
        if (BufferGetBlockNumber(buffer) != block_)
            elog(ERROR, "hnsw build expected to extend to block %u, got %u", block_,
                 BufferGetBlockNumber(buffer));
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        memcpy(BufferGetPage(buffer), page_, BLCKSZ);
        MarkBufferDirty(buffer);
        UnlockReleaseBuffer(buffer);
        block_ = InvalidBlockNumber;
    }

private:
    Relation index_;
    Page page_;
    BlockNumber block_ = InvalidBlockNumber;
};

// Appends a planned tuple, growing the array as needed.
void plan_tuple(PlacedTuple **tuples, uint32 *count, uint32 *capacity, const PlacedTuple &tuple)
{
    if (*count == *capacity) {
        *capacity *= 2;
        *tuples = static_cast<PlacedTuple *>(repalloc_huge(*tuples, sizeof(PlacedTuple) * *capacity));
    }
    (*tuples)[(*count)++] = tuple;
}

void write_element(const HnswElementLayout &layout, const core::HnswGraph &graph, uint32 node,
                   const ItemPointerData *node_tid, const ItemPointerData *heap_tids, uint32 total,
                   const ItemPointerData &first_overflow, const ItemPointerData &first_vector_chunk,
                   HnswElementTuple *element)
{
    const int level = graph.level(node);
    const int inline_tids = Min(static_cast<int>(total), kHnswMaxInlineHeapTids);
    element->kind = kHnswElementTuple;
    element->level = static_cast<uint8>(level);
    element->heap_tid_count = static_cast<uint16>(inline_tids);
    if (total > static_cast<uint32>(kHnswMaxInlineHeapTids))
        element->more_heap_tids = first_overflow;
    else
        ItemPointerSetInvalid(&element->more_heap_tids);
    if (layout.vector_inline())
        memcpy(layout.vector(element), graph.vector(node), sizeof(float) * layout.dimensions());
    else
        *layout.vector_chunk(element) = first_vector_chunk;
    ItemPointerData *links = layout.links(element);
    for (int l = 0; l <= level; l++) {
        const core::HnswGraph::Links node_links = graph.links(node, l);
        ItemPointerData *slots = links + hnsw_level_link_offset(layout.m(), l);
        for (int j = 0; j < hnsw_level_capacity(layout.m(), l); j++) {
            if (static_cast<uint32>(j) < node_links.count)
                slots[j] = node_tid[node_links.ids[j]];
            else
                ItemPointerSetInvalid(&slots[j]);
        }
    }
    memcpy(layout.heap_tids(element), heap_tids, sizeof(ItemPointerData) * inline_tids);
}

void write_graph(HnswBuildState &state, const core::HnswGraph &graph)
{
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kHnswPhaseWrite);
    const HnswElementLayout layout = HnswElementLayout::for_index(state.dimensions, state.m);
    const int dim = state.dimensions;

    uint32 *order = static_cast<uint32 *>(palloc_extended(sizeof(uint32) * state.count, MCXT_ALLOC_HUGE));
    const uint32 linked = layout_order(graph, state.count, order);

    // Plan every tuple's place first: links name the TIDs of elements written later. The
    // elements come first, packed in layout order, then chunked vectors, then overflow chunks.
    ItemPointerData *node_tid = static_cast<ItemPointerData *>(
        palloc_extended(sizeof(ItemPointerData) * state.count, MCXT_ALLOC_HUGE));
    uint32 tuple_capacity = linked;
    uint32 tuple_count = 0;
    PlacedTuple *tuples = static_cast<PlacedTuple *>(
        palloc_extended(sizeof(PlacedTuple) * tuple_capacity, MCXT_ALLOC_HUGE));
    PagePlanner planner(kHnswMetaBlock + 1);
    for (uint32 i = 0; i < linked; i++) {
        const uint32 node = order[i];
        const int inline_tids = Min(static_cast<int>(heap_tid_total(graph, node)), kHnswMaxInlineHeapTids);
        const Size size = layout.element_size(graph.level(node), inline_tids);
        tuples[tuple_count] = PlacedTuple{node, kHnswElementTuple, 0, size, planner.place(size)};
        node_tid[node] = tuples[tuple_count].tid;
        tuple_count++;
    }
    for (uint32 i = 0; i < linked && !layout.vector_inline(); i++) {
        for (uint32 done = 0, chunk = 0; done < static_cast<uint32>(dim); done += kHnswVectorChunkFloats, chunk++) {
            const Size size = hnsw_vector_chunk_size(Min(dim - static_cast<int>(done), kHnswVectorChunkFloats));
            plan_tuple(&tuples, &tuple_count, &tuple_capacity,
                       PlacedTuple{order[i], kHnswVectorChunkTuple, chunk, size, planner.place(size)});
        }
    }
    for (uint32 i = 0; i < linked; i++) {
        const uint32 node = order[i];
        const uint32 total = heap_tid_total(graph, node);
        for (uint32 done = kHnswMaxInlineHeapTids, chunk = 0; done < total; done += kHeapTidsPerChunk, chunk++) {
            const Size size = hnsw_heap_tids_size(Min(static_cast<int>(total - done), kHeapTidsPerChunk));
            plan_tuple(&tuples, &tuple_count, &tuple_capacity,
                       PlacedTuple{node, kHnswHeapTidsTuple, chunk, size, planner.place(size)});
        }
    }

    // Tuples are written in placement order; a node's chunks of either kind are consecutive,
    // so each chunk's successor is the next tuple.
    ItemPointerData *all_tids = static_cast<ItemPointerData *>(
        palloc_extended(sizeof(ItemPointerData) * state.count, MCXT_ALLOC_HUGE));
    char *scratch = static_cast<char *>(palloc(kHnswMaxTupleSize));
    PageWriter writer(state.index);
    ItemPointerData *first_overflow = static_cast<ItemPointerData *>(
        palloc_extended(sizeof(ItemPointerData) * state.count, MCXT_ALLOC_HUGE));
    ItemPointerData *first_vector_chunk = static_cast<ItemPointerData *>(
        palloc_extended(sizeof(ItemPointerData) * state.count, MCXT_ALLOC_HUGE));
    for (uint32 i = linked; i < tuple_count; i++) {
        if (tuples[i].chunk == 0)
            (tuples[i].kind == kHnswVectorChunkTuple ? first_vector_chunk : first_overflow)[tuples[i].node] = tuples[i].tid;
    }

    // A node's heap TIDs, collected once for its element and once for all its overflow chunks
    // (consecutive tuples): per chunk, a million copies of one vector cost minutes.
    uint32 collected_node = core::HnswGraph::kNoNode;
    uint32 total = 0;
    auto collect = [&](uint32 node) {
        if (node != collected_node)
            total = collect_heap_tids(graph, state.heap_tids, node, all_tids);
        collected_node = node;
    };
    for (uint32 i = 0; i < tuple_count; i++) {
        CHECK_FOR_INTERRUPTS();
        const PlacedTuple &placed = tuples[i];
        const uint32 node = placed.node;
        memset(scratch, 0, placed.size);
        if (placed.kind == kHnswElementTuple) {
            collect(node);
            write_element(layout, graph, node, node_tid, all_tids, total, first_overflow[node],
                          first_vector_chunk[node], reinterpret_cast<HnswElementTuple *>(scratch));
        } else if (placed.kind == kHnswVectorChunkTuple) {
            auto *chunk = reinterpret_cast<HnswVectorChunkTuple *>(scratch);
            const int start = static_cast<int>(placed.chunk) * kHnswVectorChunkFloats;
            const int count = Min(dim - start, kHnswVectorChunkFloats);
            chunk->kind = kHnswVectorChunkTuple;
            chunk->count = static_cast<uint16>(count);
            if (start + count < dim)
                chunk->next = tuples[i + 1].tid;
            else
                ItemPointerSetInvalid(&chunk->next);
            memcpy(chunk->values, graph.vector(node) + start, sizeof(float) * count);
        } else {
            collect(node);
            auto *chunk = reinterpret_cast<HnswHeapTidsTuple *>(scratch);
            const uint32 start = kHnswMaxInlineHeapTids + placed.chunk * kHeapTidsPerChunk;
            const uint32 count = Min(total - start, static_cast<uint32>(kHeapTidsPerChunk));
            chunk->kind = kHnswHeapTidsTuple;
            chunk->count = static_cast<uint16>(count);
            if (start + count < total)
                chunk->next = tuples[i + 1].tid;
            else
                ItemPointerSetInvalid(&chunk->next);
            memcpy(chunk->heap_tids, all_tids + start, sizeof(ItemPointerData) * count);
        }
        writer.add(placed.tid, scratch, placed.size);
    }
    writer.flush();

    if (linked > 0) {
        const uint32 entry = graph.entry_point();
        hnsw_update_meta(state.index, state.dimensions, &node_tid[entry], graph.level(entry), true,
                         planner.last_block());
    }
    state.index_tuples += state.count;
}

// The graph's pages are written without WAL, then logged whole: before any insert changes
// them, since an insert logs only its change where full_page_writes is off, and a replica
// must have the page to apply it to. Pages inserts add later are logged whole by them.
void log_written_pages(Relation index)
{
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
}

// Links every gathered row into a graph, with parallel workers when allowed and worth it
// (not from inside the heap scan, where a build past the memory limit starts), then
// writes it out.
void build_graph_and_write(HnswBuildState &state, bool allow_parallel)
{
    if (state.count == 0)
        return;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kHnswPhaseGraph);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, state.count);

    const core::HnswParams params = graph_params(state);
    const Size bytes = core::HnswGraph::required_bytes(params, state.count);
    void *memory = MemoryContextAllocExtended(state.build_context, bytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
    if (memory == nullptr)
        report_out_of_memory("allocating the hnsw graph");

    int workers = allow_parallel ? hnsw_parallel_workers(state.heap, state.index, state.count) : 0;
    // Parallel builders share a copy of the vectors and the graph in dynamic shared memory,
    // which doubles what the build holds: past maintenance_work_mem it stays serial.
    const double parallel_bytes = 2.0 * (static_cast<double>(bytes) + sizeof(float) * static_cast<double>(state.dimensions) * state.count);
    if (workers > 0 && parallel_bytes > static_cast<double>(maintenance_work_mem) * 1024.0) {
        ereport(DEBUG1, (errmsg("hnsw build of %u rows stays serial: a parallel build would need %.0f MB of maintenance_work_mem",
                                state.count, parallel_bytes / (1024.0 * 1024.0))));
        workers = 0;
    }
    core::HnswGraph graph;
    core::HnswBuilder builder;
    if (workers > 0) {
        hnsw_parallel_insert_all(workers, params, state.count, state.vectors, memory, bytes);
        if (graph.attach(memory, bytes, state.vectors) != core::HnswStatus::ok)
            elog(ERROR, "could not attach to the hnsw graph built in parallel");
        if (builder.init(graph, palloc_hooks(state.build_context)) != core::HnswStatus::ok)
            report_out_of_memory("preparing the hnsw build");
    } else {
        if (graph.init(memory, bytes, params, state.count, state.vectors) != core::HnswStatus::ok)
            elog(ERROR, "could not lay out an hnsw graph of %u nodes", state.count);
        if (builder.init(graph, palloc_hooks(state.build_context)) != core::HnswStatus::ok)
            report_out_of_memory("preparing the hnsw build");
        for (uint32 node = 0; node < state.count; node++) {
            CHECK_FOR_INTERRUPTS();
            if (builder.insert(node) != core::HnswStatus::ok)
                report_out_of_memory("building the hnsw graph");
            if ((node & 1023) == 0)
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, node);
        }
    }
    if (builder.link_unreachable_nodes() != core::HnswStatus::ok)
        report_out_of_memory("linking unreachable hnsw nodes");
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, state.count);
    write_graph(state, graph);
}

void build_callback(Relation index, ItemPointer heap_tid, Datum *values, bool *isnull,
                    bool tuple_is_alive, void *opaque)
{
    (void)index;
    (void)tuple_is_alive;
    auto &state = *static_cast<HnswBuildState *>(opaque);
    if (isnull[0])
        return;

    MemoryContext old = MemoryContextSwitchTo(state.row_context);
    const Vector *value = datum_get_vector(values[0]);
    if (state.dimensions == 0) {
        state.dimensions = value->dim;
        state.memory_row_limit = memory_row_limit(state);
    } else if (value->dim != state.dimensions) {
        report_unexpected_dim(state.dimensions, value->dim);
    }
    float *vector = static_cast<float *>(palloc(sizeof(float) * state.dimensions));
    memcpy(vector, value->x, sizeof(float) * state.dimensions);
    if (normalize_for_metric(state.metric, vector, state.dimensions)) {
        if (state.graph_written) {
            hnsw_insert_vector(state.index, state.metric, vector, state.dimensions, heap_tid);
            state.index_tuples++;
        } else {
            add_row(state, vector, heap_tid);
            if (state.count == state.memory_row_limit) {
                ereport(NOTICE, (errmsg("hnsw graph no longer fits into maintenance_work_mem after %u tuples",
                                        state.count),
                                 errdetail("The remaining rows are inserted one at a time, several times slower."),
                                 errhint("Increase maintenance_work_mem to speed up builds.")));
                build_graph_and_write(state, false);
                log_written_pages(state.index);
                state.graph_written = true;
                pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kHnswPhaseLoad);
            }
        }
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state.row_context);
}

HnswMeta empty_meta(Relation index, int dimensions)
{
    HnswMeta meta;
    meta.dimensions = static_cast<uint32>(dimensions);
    meta.m = hnsw_option_m(index);
    meta.ef_construction = hnsw_option_ef_construction(index);
    ItemPointerSetInvalid(&meta.entry_point);
    meta.entry_level = -1;
    meta.insert_block = InvalidBlockNumber;
    meta.freed_generation = 0;
    if (!pg_strong_random(&meta.build_id, sizeof(meta.build_id)))
        meta.build_id = static_cast<uint32>(GetCurrentTimestamp()) ^ static_cast<uint32>(MyProcPid);
    return meta;
}

void check_options(Relation index)
{
    const int m = hnsw_option_m(index);
    const int ef_construction = hnsw_option_ef_construction(index);
    if (ef_construction < 2 * m)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("ef_construction must be greater than or equal to 2 * m")));
}

int column_dimensions(Relation index)
{
    const int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
    return typmod > 0 ? typmod : 0;
}

IndexBuildResult *build(Relation heap, Relation index, IndexInfo *index_info)
{
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    check_options(index);

    HnswBuildState state;
    memset(&state, 0, sizeof(state));
    state.heap = heap;
    state.index = index;
    state.metric = index_metric(index);
    state.m = hnsw_option_m(index);
    state.ef_construction = hnsw_option_ef_construction(index);
    state.dimensions = column_dimensions(index);
    if (state.dimensions > 0)
        state.memory_row_limit = memory_row_limit(state);
    state.build_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw build", ALLOCSET_DEFAULT_SIZES);
    state.row_context = AllocSetContextCreate(state.build_context, "hnsw build row", ALLOCSET_DEFAULT_SIZES);

    hnsw_create_meta_page(index, MAIN_FORKNUM, empty_meta(index, state.dimensions));

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kHnswPhaseLoad);
    const double heap_tuples = table_index_build_scan(heap, index, index_info, true, true,
                                                      build_callback, &state, nullptr);
    if (!state.graph_written) {
        // In the build's context, as the arrays of writing out are large.
        MemoryContext old = MemoryContextSwitchTo(state.build_context);
        build_graph_and_write(state, true);
        MemoryContextSwitchTo(old);
        log_written_pages(index);
    }

    auto *result = static_cast<IndexBuildResult *>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = heap_tuples;
    result->index_tuples = state.index_tuples;
    MemoryContextDelete(state.build_context);
    return result;
}

}  // namespace

IndexBuildResult *hnsw_build(Relation heap, Relation index, IndexInfo *index_info)
{
    return guarded_call("hnsw build", [&]() { return build(heap, index, index_info); });
}

void hnsw_build_empty(Relation index)
{
    guarded_call("hnsw build", [&]() {
        check_options(index);
        hnsw_create_meta_page(index, INIT_FORKNUM, empty_meta(index, column_dimensions(index)));
    });
}

}  // namespace ann::pg
