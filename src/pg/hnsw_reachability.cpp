// VACUUM's reachability repair for hnsw: every element must be reachable on layer 0 from the
// entry point, or no search can return its rows. Inserts can still break that, rarely: one
// that prunes a full neighbour list may drop the last link into some element while a
// concurrent one drops the link it saw as that element's other way in, and an insert follows
// a chain of such drops only so far (hnsw_insert.cpp). The in-memory build checks the same
// at its end; here the layer-0 graph is read in one sequential pass into memory (links as
// element indices), walked from the entry point, and every live element the walk misses is
// linked in again as an insert would link it, after which what it reaches counts as reached
// too.
//
// Inserts and scans run meanwhile. An element inserted after the pass is not examined (an
// insert links it in); one examined but linked by someone else in between is only linked
// once more, which does no harm.
#include "pg/hnsw.hpp"

#include "pg/hnsw_graph_reader.hpp"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/memutils.h"
}

namespace ann::pg {

namespace {

constexpr uint32 kNoElement = PG_UINT32_MAX;

class LayerZeroGraph {
public:
    LayerZeroGraph(Relation index, BufferAccessStrategy strategy, const HnswMeta &meta)
        : index_(index), strategy_(strategy), layout_(meta.layout()), capacity_(hnsw_level_capacity(meta.m, 0))
    {
    }

    // Reads every element's id, liveness and layer-0 links. False when the graph would not
    // fit in maintenance_work_mem.
    bool load();
    // Marks what the layer-0 links reach from `start`; returns how many were newly reached.
    uint32 mark_reachable(uint32 start);
    uint32 index_of(uint64 id) const;

    uint32 count() const { return count_; }
    uint64 id(uint32 element) const { return ids_[element]; }
    bool reached(uint32 element) const { return reached_[element]; }
    bool live(uint32 element) const { return live_[element]; }

private:
    bool grow();

    Relation index_;
    BufferAccessStrategy strategy_;
    HnswElementLayout layout_;
    int capacity_;
    uint32 count_ = 0;
    uint32 allocated_ = 0;
    uint64 *ids_ = nullptr;  // ascending: pages are read in block and offset order
    bool *live_ = nullptr;
    bool *reached_ = nullptr;
    // capacity_ slots per element: element ids while loading, then indices (or kNoElement)
    // written over them in place, as a uint32 never overtakes the uint64 it replaces.
    uint64 *links_ = nullptr;
};

bool LayerZeroGraph::grow()
{
    const uint32 wanted = Max(allocated_ * 2, 1024u);
    const Size per_element = sizeof(uint64) * (1 + capacity_) + 2 * sizeof(bool);
    if (static_cast<double>(wanted) * per_element > static_cast<double>(maintenance_work_mem) * 1024.0)
        return false;
    auto resize = [](void *old, Size bytes) {
        return old == nullptr ? palloc_extended(bytes, MCXT_ALLOC_HUGE) : repalloc_huge(old, bytes);
    };
    ids_ = static_cast<uint64 *>(resize(ids_, sizeof(uint64) * wanted));
    live_ = static_cast<bool *>(resize(live_, sizeof(bool) * wanted));
    links_ = static_cast<uint64 *>(resize(links_, sizeof(uint64) * capacity_ * wanted));
    allocated_ = wanted;
    return true;
}

bool LayerZeroGraph::load()
{
    const BlockNumber blocks = RelationGetNumberOfBlocks(index_);
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, block, RBM_NORMAL, strategy_);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (PageIsNew(page)) {
            UnlockReleaseBuffer(buffer);
            continue;
        }
        hnsw_check_page(index_, page, block);
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(page);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            const HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
            if (element == nullptr)
                continue;
            if (count_ == allocated_ && !grow()) {
                UnlockReleaseBuffer(buffer);
                return false;
            }
            ItemPointerData tid;
            ItemPointerSet(&tid, block, offset);
            ids_[count_] = hnsw_node_id(&tid);
            live_[count_] = !HnswGraphReader::element_is_dead(element);
            const ItemPointerData *slots = layout_.links(element);
            uint64 *links = links_ + static_cast<Size>(count_) * capacity_;
            for (int i = 0; i < capacity_; i++)
                links[i] = ItemPointerIsValid(&slots[i]) ? hnsw_node_id(&slots[i]) : PG_UINT64_MAX;
            count_++;
        }
        UnlockReleaseBuffer(buffer);
    }
    auto *indices = reinterpret_cast<uint32 *>(links_);
    const Size slots = static_cast<Size>(count_) * capacity_;
    for (Size i = 0; i < slots; i++)
        indices[i] = links_[i] == PG_UINT64_MAX ? kNoElement : index_of(links_[i]);
    reached_ = static_cast<bool *>(palloc_extended(Max(count_, 1u), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
    return true;
}

uint32 LayerZeroGraph::index_of(uint64 id) const
{
    uint32 low = 0;
    uint32 high = count_;
    while (low < high) {
        const uint32 middle = low + (high - low) / 2;
        if (ids_[middle] < id)
            low = middle + 1;
        else
            high = middle;
    }
    return low < count_ && ids_[low] == id ? low : kNoElement;
}

uint32 LayerZeroGraph::mark_reachable(uint32 start)
{
    if (reached_[start])
        return 0;
    const auto *indices = reinterpret_cast<const uint32 *>(links_);
    // Depth-first with an explicit stack: each element is pushed once, when first reached.
    auto *stack = static_cast<uint32 *>(palloc_extended(sizeof(uint32) * count_, MCXT_ALLOC_HUGE));
    uint32 depth = 0;
    uint32 newly = 1;
    reached_[start] = true;
    stack[depth++] = start;
    while (depth > 0) {
        const uint32 element = stack[--depth];
        const uint32 *links = indices + static_cast<Size>(element) * capacity_;
        for (int i = 0; i < capacity_; i++) {
            const uint32 next = links[i];
            if (next != kNoElement && !reached_[next]) {
                reached_[next] = true;
                stack[depth++] = next;
                newly++;
            }
        }
    }
    pfree(stack);
    return newly;
}

}  // namespace

uint32 hnsw_link_unreachable(Relation index, BufferAccessStrategy strategy)
{
    const HnswMeta meta = hnsw_read_meta(index);
    if (!ItemPointerIsValid(&meta.entry_point))
        return 0;
    MemoryContext repair_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw reachability", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(repair_context);
    LayerZeroGraph graph(index, strategy, meta);
    uint32 relinked = 0;
    const uint32 entry = graph.load() ? graph.index_of(hnsw_node_id(&meta.entry_point)) : kNoElement;
    if (entry == kNoElement) {
        ereport(DEBUG1, (errmsg("hnsw index \"%s\": reachability not checked", RelationGetRelationName(index)),
                         errdetail("The layer-0 graph does not fit in maintenance_work_mem, or its entry point moved.")));
    } else {
        graph.mark_reachable(entry);
        const IndexMetric metric = index_metric(index);
        HnswGraphReader reader(index, metric, static_cast<int>(meta.dimensions), meta.m);
        float *vector = static_cast<float *>(palloc(sizeof(float) * meta.dimensions));
        // Linking an element allocates a search's worth of memory (3 x ef_construction
        // candidate vectors): freed after each, since a mass DELETE may leave thousands to
        // link.
        MemoryContext link_context = AllocSetContextCreate(repair_context, "hnsw link element", ALLOCSET_DEFAULT_SIZES);
        for (uint32 element = 0; element < graph.count(); element++) {
            vacuum_delay_point();
            if (graph.reached(element) || !graph.live(element) || !reader.read_vector(graph.id(element), vector))
                continue;
            ItemPointerData tid;
            hnsw_node_tid(graph.id(element), &tid);
            MemoryContextSwitchTo(link_context);
            hnsw_link_element(index, metric, vector, &tid);
            MemoryContextSwitchTo(repair_context);
            MemoryContextReset(link_context);
            graph.mark_reachable(element);
            relinked++;
        }
        reader.release();
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(repair_context);
    if (relinked > 0)
        ereport(DEBUG1, (errmsg("hnsw index \"%s\": linked %u unreachable elements", RelationGetRelationName(index), relinked)));
    return relinked;
}

}  // namespace ann::pg
