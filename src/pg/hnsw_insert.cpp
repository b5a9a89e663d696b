// Inserting into a built graph (aminsert, and builds past maintenance_work_mem). The new
// element is found its neighbours by the same paged search a scan runs, written to a page
// with room (after its vector's chunks, when vectors are chunked), and then linked from each
// neighbour, pruning full neighbour lists with the core's heuristic (and linking again an
// element such pruning leaves with no way in). Every page change is one GenericXLog record.
//
// Concurrency: inserts hold a share lock on the index's entry-point lock (a heavyweight lock
// on the meta block's number); one that may raise the entry point takes it exclusively. Only
// one buffer is locked at a time, except an exclusive element page while the new element is
// placed, so inserts, scans and VACUUM cannot deadlock on buffers.
#include "pg/hnsw.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/hnsw_select.h"
#include "pg/core_memory.hpp"
#include "pg/guard.hpp"
#include "pg/hnsw_graph_reader.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
}

namespace ann::pg {

namespace {

// Attempts to rewrite a neighbour's full link list before giving that back-link up; a list
// that changes under us was just rewritten by a concurrent insert, which is rare.
constexpr int kLinkUpdateAttempts = 3;

// How long a chain of adoptions (adopt_dropped) may grow: an adoption prunes the adopter's
// list, and the link that drops is checked in turn, though it rarely needs adopting itself.
// What the chain leaves behind is left to VACUUM's reachability pass.
constexpr int kAdoptionDepth = 2;

struct Neighbour {
    uint64 id;
    float distance;
};

int random_level(int m, int max_level)
{
    const double uniform = 1.0 - pg_prng_double(&pg_global_prng_state);  // (0, 1]
    const int level = static_cast<int>(std::floor(-std::log(uniform) / std::log(static_cast<double>(m))));
    return Min(level, max_level);
}

// The search results and layer-0 runners-up a node's links are chosen among, plus one.
uint32 link_candidate_capacity(const HnswMeta &meta)
{
    const uint32 ef = static_cast<uint32>(meta.ef_construction);
    return ef + core::layer0_runners_up(ef) + 1;
}

class Inserter {
public:
    Inserter(Relation index, IndexMetric metric, const HnswMeta &meta, const float *vector)
        : index_(index), metric_(metric), meta_(meta), dim_(static_cast<int>(meta.dimensions)),
          vector_(vector), reader_(index, metric, static_cast<int>(meta.dimensions), meta.m), layout_(reader_.layout())
    {
        const uint32 candidates = link_candidate_capacity(meta);
        candidate_vectors_ = static_cast<float *>(palloc(sizeof(float) * dim_ * candidates));
        selected_ = static_cast<uint32 *>(palloc(sizeof(uint32) * candidates));
        const Size link_bytes = sizeof(ItemPointerData) * hnsw_level_capacity(meta.m, 0);
        dropped_ = static_cast<ItemPointerData *>(palloc(link_bytes));
        target_links_ = static_cast<ItemPointerData *>(palloc(link_bytes));
        witness_links_ = static_cast<ItemPointerData *>(palloc(link_bytes));
        orphan_vector_ = static_cast<float *>(palloc(sizeof(float) * dim_));
    }

    void insert(ItemPointer heap_tid, int level);
    // Links the element at `tid`, which holds our vector, from its nearest layer-0 elements.
    void link_in(const ItemPointerData &tid);
    void release() { reader_.release(); }

private:
    uint32 select(const Neighbour *candidates, uint32 count, uint32 limit, const float *base,
                  Neighbour *out);
    bool add_duplicate(uint64 id, ItemPointer heap_tid);
    ItemPointerData place_tuple(const void *tuple, Size size);
    ItemPointerData place_vector_chunks();
    ItemPointerData place_element(int level, ItemPointer heap_tid, Neighbour *const *links,
                                  const uint32 *link_counts);
    bool link_back(uint64 neighbour, int level, const ItemPointerData &tid, const float *vector, bool force,
                   ItemPointerData *dropped, int *dropped_count);
    bool has_in_link(uint64 target, int level, uint64 except, uint64 self);
    uint64 nearest_adopter(uint64 orphan, int level, uint64 except, uint64 self);
    void adopt_dropped(uint64 neighbour, int level, uint64 self, const ItemPointerData *dropped, int dropped_count,
                       int depth);
    void link_from(const Neighbour *neighbours, uint32 count, int level, const ItemPointerData &tid);
    void start_search(core::ScanSearchState &search, core::CandidatePool<uint64> &runners_up, int wide_level);

    Relation index_;
    IndexMetric metric_;
    HnswMeta meta_;
    int dim_;
    const float *vector_;
    HnswGraphReader reader_;
    const HnswElementLayout layout_;
    float *candidate_vectors_;
    uint32 *selected_;
    ItemPointerData *dropped_;
    ItemPointerData *target_links_;
    ItemPointerData *witness_links_;
    float *orphan_vector_;
};

// The heuristic over candidates sorted nearest to `base` first; their vectors are loaded
// into candidate_vectors_ (a candidate whose element vanished is dropped).
uint32 Inserter::select(const Neighbour *candidates, uint32 count, uint32 limit, const float *base,
                        Neighbour *out)
{
    Neighbour *loaded = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * count));
    uint32 n = 0;
    for (uint32 i = 0; i < count; i++) {
        if (reader_.read_vector(candidates[i].id, candidate_vectors_ + static_cast<Size>(n) * dim_))
            loaded[n++] = candidates[i];
    }
    const float *vectors = candidate_vectors_;
    const int dim = dim_;
    const IndexMetric metric = metric_;
    // Inner product is no metric: a long neighbour would prune every other candidate, so
    // diversity is judged by angle there (the candidates stay ranked by inner product).
    const bool angles = metric == IndexMetric::inner_product;
    const uint32 kept = core::select_neighbours(
        n, limit,
        [&](uint32 i) {
            return angles ? core::angular_distance(base, vectors + static_cast<Size>(i) * dim, dim) : loaded[i].distance;
        },
        [&](uint32 i, uint32 j) {
            const float *a = vectors + static_cast<Size>(i) * dim;
            const float *b = vectors + static_cast<Size>(j) * dim;
            return angles ? core::angular_distance(a, b, dim) : metric_distance(metric, a, b, dim);
        },
        [&](uint32 i) { return memcmp(vectors + static_cast<Size>(i) * dim, base, sizeof(float) * dim) == 0; },
        selected_);
    for (uint32 k = 0; k < kept; k++)
        out[k] = loaded[selected_[k]];
    pfree(loaded);
    return kept;
}

// Adds heap_tid to element `id` if it holds exactly our vector and has room inline. A chunked
// vector is compared before the page is locked; the element is still the one compared if it
// still names the same first chunk.
bool Inserter::add_duplicate(uint64 id, ItemPointer heap_tid)
{
    const Size vector_bytes = sizeof(float) * dim_;
    ItemPointerData chunk;
    if (!layout_.vector_inline() &&
        (!reader_.read_vector(id, candidate_vectors_, &chunk) || memcmp(candidate_vectors_, vector_, vector_bytes) != 0))
        return false;
    ItemPointerData tid;
    hnsw_node_tid(id, &tid);
    Buffer buffer = ReadBuffer(index_, ItemPointerGetBlockNumber(&tid));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buffer);
    hnsw_check_page(index_, page, ItemPointerGetBlockNumber(&tid));
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&tid);
    HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
    bool added = false;
    if (element != nullptr && element->heap_tid_count > 0 && element->heap_tid_count < kHnswMaxInlineHeapTids &&
        (layout_.vector_inline() ? memcmp(layout_.vector(element), vector_, vector_bytes) == 0
                                 : ItemPointerEquals(layout_.vector_chunk(element), &chunk))) {
        const Size old_size = ItemIdGetLength(PageGetItemId(page, offset));
        const Size new_size = layout_.element_size(element->level, element->heap_tid_count + 1);
        if (new_size <= old_size || PageGetExactFreeSpace(page) >= new_size - old_size) {
            char *grown = static_cast<char *>(palloc0(new_size));
            memcpy(grown, element, Min(old_size, new_size));
            auto *copy = reinterpret_cast<HnswElementTuple *>(grown);
            layout_.heap_tids(copy)[copy->heap_tid_count++] = *heap_tid;
            GenericXLogState *state = GenericXLogStart(index_);
            Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
            if (!PageIndexTupleOverwrite(logged, offset, reinterpret_cast<Item>(grown), new_size))
                elog(ERROR, "failed to add a heap TID to hnsw element in index \"%s\"", RelationGetRelationName(index_));
            GenericXLogFinish(state);
            added = true;
        }
    }
    UnlockReleaseBuffer(buffer);
    return added;
}

// Adds `tuple` to a page with room: one VACUUM freed first, then the last element page, then
// a new page.
ItemPointerData Inserter::place_tuple(const void *tuple, Size size)
{
    Buffer buffer = InvalidBuffer;
    bool new_page = false;
    const BlockNumber candidates[] = {GetPageWithFreeSpace(index_, size), meta_.insert_block};
    for (const BlockNumber block : candidates) {
        if (block == InvalidBlockNumber || buffer != InvalidBuffer)
            continue;
        buffer = ReadBuffer(index_, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        hnsw_check_page(index_, BufferGetPage(buffer), block);
        if (PageGetFreeSpace(BufferGetPage(buffer)) < size) {
            UnlockReleaseBuffer(buffer);
            buffer = InvalidBuffer;
            if (block != meta_.insert_block)
                RecordPageWithFreeSpace(index_, block, 0);
        }
    }
    if (buffer == InvalidBuffer) {
        LockRelationForExtension(index_, ExclusiveLock);
        buffer = ReadBuffer(index_, P_NEW);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        UnlockRelationForExtension(index_, ExclusiveLock);
        new_page = true;
    }

    GenericXLogState *state = GenericXLogStart(index_);
    Page page = GenericXLogRegisterBuffer(state, buffer, new_page ? GENERIC_XLOG_FULL_IMAGE : 0);
    if (new_page)
        hnsw_init_page(page, kHnswPageElements);
    const OffsetNumber offset = PageAddItem(page, static_cast<Item>(const_cast<void *>(tuple)), size,
                                            InvalidOffsetNumber, false, false);
    if (offset == InvalidOffsetNumber)
        elog(ERROR, "failed to add hnsw tuple to index \"%s\"", RelationGetRelationName(index_));
    GenericXLogFinish(state);
    const BlockNumber block = BufferGetBlockNumber(buffer);
    UnlockReleaseBuffer(buffer);

    if (new_page) {
        hnsw_update_meta(index_, 0, nullptr, 0, false, block);
        meta_.insert_block = block;
    }
    ItemPointerData tid;
    ItemPointerSet(&tid, block, offset);
    return tid;
}

// Writes our vector as a chain of chunks, last chunk first so each knows its successor;
// returns the first chunk's TID.
ItemPointerData Inserter::place_vector_chunks()
{
    auto *chunk = static_cast<HnswVectorChunkTuple *>(palloc(hnsw_vector_chunk_size(kHnswVectorChunkFloats)));
    ItemPointerData next;
    ItemPointerSetInvalid(&next);
    for (int start = (dim_ - 1) / kHnswVectorChunkFloats * kHnswVectorChunkFloats; start >= 0; start -= kHnswVectorChunkFloats) {
        const int count = Min(dim_ - start, kHnswVectorChunkFloats);
        const Size size = hnsw_vector_chunk_size(count);
        memset(chunk, 0, size);
        chunk->kind = kHnswVectorChunkTuple;
        chunk->count = static_cast<uint16>(count);
        chunk->next = next;
        memcpy(chunk->values, vector_ + start, sizeof(float) * count);
        next = place_tuple(chunk, size);
    }
    pfree(chunk);
    return next;
}

ItemPointerData Inserter::place_element(int level, ItemPointer heap_tid, Neighbour *const *links,
                                        const uint32 *link_counts)
{
    const Size size = layout_.element_size(level, 1);
    auto *element = static_cast<HnswElementTuple *>(palloc0(size));
    element->kind = kHnswElementTuple;
    element->level = static_cast<uint8>(level);
    element->heap_tid_count = 1;
    ItemPointerSetInvalid(&element->more_heap_tids);
    if (layout_.vector_inline())
        memcpy(layout_.vector(element), vector_, sizeof(float) * dim_);
    else
        *layout_.vector_chunk(element) = place_vector_chunks();
    ItemPointerData *slots = layout_.links(element);
    for (int i = 0; i < hnsw_total_link_slots(meta_.m, level); i++)
        ItemPointerSetInvalid(&slots[i]);
    for (int l = 0; l <= level; l++) {
        for (uint32 i = 0; i < link_counts[l]; i++)
            hnsw_node_tid(links[l][i].id, &slots[hnsw_level_link_offset(meta_.m, l) + i]);
    }
    layout_.heap_tids(element)[0] = *heap_tid;
    const ItemPointerData tid = place_tuple(element, size);
    pfree(element);
    return tid;
}

// Makes `neighbour` link to the element at `tid`, whose vector is `vector`, on `level`: into
// a free slot, or by re-selecting its list from the old links plus the new one when the list
// is full. The heuristic may leave the new element out; `force` puts it in place of the last
// choice then, so that an element every neighbour turned down still has a way in. True if
// the link was made. The old links a re-selection left out go to `dropped` (room for the
// level's capacity).
bool Inserter::link_back(uint64 neighbour, int level, const ItemPointerData &tid, const float *vector, bool force,
                         ItemPointerData *dropped, int *dropped_count)
{
    *dropped_count = 0;
    ItemPointerData neighbour_tid;
    hnsw_node_tid(neighbour, &neighbour_tid);
    const BlockNumber block = ItemPointerGetBlockNumber(&neighbour_tid);
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&neighbour_tid);
    const int capacity = hnsw_level_capacity(meta_.m, level);
    const int first_slot = hnsw_level_link_offset(meta_.m, level);
    ItemPointerData *old_links = static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * capacity));
    float *base = static_cast<float *>(palloc(sizeof(float) * dim_));
    Neighbour *candidates = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * (capacity + 1)));
    Neighbour *chosen = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * capacity));

    for (int attempt = 0; attempt < kLinkUpdateAttempts; attempt++) {
        // Fast path: a free slot, filled under the exclusive lock.
        Buffer buffer = ReadBuffer(index_, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        hnsw_check_page(index_, page, block);
        HnswElementTuple *element = HnswGraphReader::element_at(page, offset);
        if (element == nullptr || element->level < level) {
            UnlockReleaseBuffer(buffer);
            return false;
        }
        ItemPointerData *slots = layout_.links(element) + first_slot;
        int used = 0;
        while (used < capacity && ItemPointerIsValid(&slots[used]))
            used++;
        if (used < capacity) {
            GenericXLogState *state = GenericXLogStart(index_);
            Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
            HnswElementTuple *logged_element = HnswGraphReader::element_at(logged, offset);
            layout_.links(logged_element)[first_slot + used] = tid;
            GenericXLogFinish(state);
            UnlockReleaseBuffer(buffer);
            return true;
        }
        memcpy(old_links, slots, sizeof(ItemPointerData) * capacity);
        UnlockReleaseBuffer(buffer);
        // Vectors never change: read with no page locked, as a chunked one must be.
        if (!reader_.read_vector(neighbour, base))
            return false;

        // Full: rank the old links and the new element by distance to the neighbour, choose
        // with the heuristic, without holding any lock while other pages are read.
        uint32 count = 0;
        const Neighbour new_element{hnsw_node_id(&tid), metric_distance(metric_, base, vector, dim_)};
        candidates[count++] = new_element;
        for (int i = 0; i < capacity; i++) {
            float *scratch = candidate_vectors_;
            if (reader_.read_vector(hnsw_node_id(&old_links[i]), scratch))
                candidates[count++] = Neighbour{hnsw_node_id(&old_links[i]), metric_distance(metric_, base, scratch, dim_)};
        }
        for (uint32 i = 1; i < count; i++) {
            const Neighbour moving = candidates[i];
            uint32 at = i;
            while (at > 0 && candidates[at - 1].distance > moving.distance) {
                candidates[at] = candidates[at - 1];
                at--;
            }
            candidates[at] = moving;
        }
        uint32 kept = select(candidates, count, static_cast<uint32>(capacity), base, chosen);
        bool keeps_new = false;
        for (uint32 i = 0; i < kept; i++)
            keeps_new = keeps_new || chosen[i].id == hnsw_node_id(&tid);
        if (!keeps_new && !force)
            return false;
        if (!keeps_new) {
            kept = Min(kept + 1, static_cast<uint32>(capacity));
            chosen[kept - 1] = new_element;
        }

        buffer = ReadBuffer(index_, block);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        page = BufferGetPage(buffer);
        element = HnswGraphReader::element_at(page, offset);
        if (element != nullptr && element->level >= level &&
            memcmp(layout_.links(element) + first_slot, old_links, sizeof(ItemPointerData) * capacity) == 0) {
            GenericXLogState *state = GenericXLogStart(index_);
            Page logged = GenericXLogRegisterBuffer(state, buffer, 0);
            ItemPointerData *new_slots = layout_.links(HnswGraphReader::element_at(logged, offset)) + first_slot;
            for (int i = 0; i < capacity; i++) {
                if (static_cast<uint32>(i) < kept)
                    hnsw_node_tid(chosen[i].id, &new_slots[i]);
                else
                    ItemPointerSetInvalid(&new_slots[i]);
            }
            GenericXLogFinish(state);
            UnlockReleaseBuffer(buffer);
            for (int i = 0; i < capacity; i++) {
                bool kept_link = false;
                for (uint32 k = 0; k < kept && !kept_link; k++)
                    kept_link = chosen[k].id == hnsw_node_id(&old_links[i]);
                if (!kept_link)
                    dropped[(*dropped_count)++] = old_links[i];
            }
            return true;
        }
        UnlockReleaseBuffer(buffer);
    }
    return false;
}

// True when `self` or one of `target`'s own neighbours other than `except` links to `target`
// on `level`. An element's in-links come nearly always from its own neighbours, the nearest
// of which usually links back, so this costs a read or two unless `target` lost its last way
// in (or keeps it only from elements farther away, which is rare).
bool Inserter::has_in_link(uint64 target, int level, uint64 except, uint64 self)
{
    const uint32 count = reader_.read_links(target, level, target_links_);
    for (uint32 i = 0; i <= count; i++) {
        const uint64 from = i == 0 ? self : hnsw_node_id(&target_links_[i - 1]);
        if (from == except || from == target || (i > 0 && from == self))
            continue;
        const uint32 links = reader_.read_links(from, level, witness_links_);
        for (uint32 k = 0; k < links; k++) {
            if (hnsw_node_id(&witness_links_[k]) == target)
                return true;
        }
    }
    return false;
}

// Of `orphan`'s own neighbours on `level` (but `except`) and `self`, the one nearest to
// `orphan`, whose vector is in orphan_vector_; `orphan` itself when there is none.
uint64 Inserter::nearest_adopter(uint64 orphan, int level, uint64 except, uint64 self)
{
    uint64 nearest = orphan;
    float nearest_distance = std::numeric_limits<float>::infinity();
    if (self != orphan) {
        nearest = self;
        nearest_distance = metric_distance(metric_, orphan_vector_, vector_, dim_);
    }
    const uint32 count = reader_.read_links(orphan, level, target_links_);
    for (uint32 i = 0; i < count; i++) {
        const uint64 id = hnsw_node_id(&target_links_[i]);
        if (id == except || id == orphan || !reader_.read_vector(id, candidate_vectors_))
            continue;
        const float distance = metric_distance(metric_, orphan_vector_, candidate_vectors_, dim_);
        if (distance < nearest_distance) {
            nearest = id;
            nearest_distance = distance;
        }
    }
    return nearest;
}

// `neighbour` made room on `level` for a link by dropping `dropped`, and a dropped link may
// have been the last way in to an element few others link to, which no search could then
// find until VACUUM's reachability pass. Such an element is linked again from the element
// nearest to it among its own neighbours and `self` (the element being linked in): a way in
// from farther off would be of little use to a search for it, and would hide it from that
// pass.
void Inserter::adopt_dropped(uint64 neighbour, int level, uint64 self, const ItemPointerData *dropped,
                             int dropped_count, int depth)
{
    for (int i = 0; i < dropped_count; i++) {
        const uint64 orphan = hnsw_node_id(&dropped[i]);
        if (has_in_link(orphan, level, neighbour, self) || !reader_.read_vector(orphan, orphan_vector_))
            continue;
        const uint64 adopter = nearest_adopter(orphan, level, neighbour, self);
        if (adopter == orphan)
            continue;
        const Size pruned_bytes = sizeof(ItemPointerData) * hnsw_level_capacity(meta_.m, level);
        auto *pruned = static_cast<ItemPointerData *>(palloc(pruned_bytes));
        int pruned_count;
        link_back(adopter, level, dropped[i], orphan_vector_, true, pruned, &pruned_count);
        if (depth < kAdoptionDepth)
            adopt_dropped(adopter, level, self, pruned, pruned_count, depth + 1);
        pfree(pruned);
    }
}

void Inserter::insert(ItemPointer heap_tid, int level)
{
    if (!ItemPointerIsValid(&meta_.entry_point)) {
        const uint32 no_links[kHnswMaxLevel + 1] = {};
        Neighbour *none[kHnswMaxLevel + 1] = {};
        const ItemPointerData tid = place_element(level, heap_tid, none, no_links);
        hnsw_update_meta(index_, 0, &tid, level, true, InvalidBlockNumber);
        return;
    }

    core::ScanSearchState search;
    core::CandidatePool<uint64> runners_up;
    start_search(search, runners_up, level);

    Neighbour *links[kHnswMaxLevel + 1] = {};
    uint32 link_counts[kHnswMaxLevel + 1] = {};
    Neighbour *candidates = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * link_candidate_capacity(meta_)));
    for (int l = Min(level, meta_.entry_level);; l--) {
        uint32 count = 0;
        for (uint32 i = 0; i < search.result_count(); i++)
            candidates[count++] = Neighbour{search.result_id(i), search.result_distance(i)};
        if (l == 0 && count > 0 && add_duplicate(candidates[0].id, heap_tid))
            return;
        for (uint32 i = 0; l == 0 && i < runners_up.size(); i++)
            candidates[count++] = Neighbour{runners_up.id(i), runners_up.distance(i)};
        links[l] = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * hnsw_level_capacity(meta_.m, l)));
        link_counts[l] = select(candidates, count, static_cast<uint32>(hnsw_level_capacity(meta_.m, l)), vector_, links[l]);
        if (!search.descend())
            break;
        reader_.run(search, vector_);
    }
    search.release();
    runners_up.release();

    const ItemPointerData tid = place_element(level, heap_tid, links, link_counts);
    for (int l = Min(level, meta_.entry_level); l >= 0; l--)
        link_from(links[l], link_counts[l], l, tid);
    if (level > meta_.entry_level)
        hnsw_update_meta(index_, 0, &tid, level, false, InvalidBlockNumber);
}

void Inserter::link_from(const Neighbour *neighbours, uint32 count, int level, const ItemPointerData &tid)
{
    bool linked = false;
    int dropped_count;
    for (uint32 i = 0; i < count; i++) {
        CHECK_FOR_INTERRUPTS();
        linked = link_back(neighbours[i].id, level, tid, vector_, false, dropped_, &dropped_count) || linked;
        adopt_dropped(neighbours[i].id, level, hnsw_node_id(&tid), dropped_, dropped_count, 1);
    }
    // Turned down by every neighbour: the nearest one takes it anyway.
    if (!linked && count > 0) {
        link_back(neighbours[0].id, level, tid, vector_, true, dropped_, &dropped_count);
        adopt_dropped(neighbours[0].id, level, hnsw_node_id(&tid), dropped_, dropped_count, 1);
    }
}

// Searches for our vector from the entry point, `ef_construction` wide from `wide_level`
// down, keeping the layer-0 runners-up in `runners_up`.
void Inserter::start_search(core::ScanSearchState &search, core::CandidatePool<uint64> &runners_up, int wide_level)
{
    const uint32 ef = static_cast<uint32>(meta_.ef_construction);
    const core::MemoryHooks hooks = palloc_hooks(CurrentMemoryContext);
    if (search.init(hooks, ef, ef * 2 * static_cast<uint32>(meta_.m)) != core::HnswStatus::ok ||
        runners_up.init(hooks, core::layer0_runners_up(ef)) != core::HnswStatus::ok)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in hnsw insert")));
    if (runners_up.capacity() > 0)
        search.keep_runners_up(&runners_up);
    if (!reader_.search(search, vector_, ef, wide_level, meta_))
        elog(ERROR, "entry point of hnsw index \"%s\" is not an element", RelationGetRelationName(index_));
}

void Inserter::link_in(const ItemPointerData &tid)
{
    core::ScanSearchState search;
    core::CandidatePool<uint64> runners_up;
    start_search(search, runners_up, 0);
    const uint64 self = hnsw_node_id(&tid);
    Neighbour *candidates = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * link_candidate_capacity(meta_)));
    uint32 count = 0;
    for (uint32 i = 0; i < search.result_count(); i++) {
        if (search.result_id(i) != self)
            candidates[count++] = Neighbour{search.result_id(i), search.result_distance(i)};
    }
    for (uint32 i = 0; i < runners_up.size(); i++) {
        if (runners_up.id(i) != self)
            candidates[count++] = Neighbour{runners_up.id(i), runners_up.distance(i)};
    }
    search.release();
    runners_up.release();
    const uint32 capacity = static_cast<uint32>(hnsw_level_capacity(meta_.m, 0));
    Neighbour *links = static_cast<Neighbour *>(palloc(sizeof(Neighbour) * capacity));
    link_from(links, select(candidates, count, capacity, vector_, links), 0, tid);
}

bool insert_row(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid)
{
    if (isnull[0])
        return false;
    MemoryContext insert_context = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(insert_context);
    const IndexMetric metric = index_metric(index);
    const Vector *value = datum_get_vector(values[0]);
    float *vector = static_cast<float *>(palloc(sizeof(float) * value->dim));
    memcpy(vector, value->x, sizeof(float) * value->dim);
    if (normalize_for_metric(metric, vector, value->dim))
        hnsw_insert_vector(index, metric, vector, value->dim, heap_tid);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(insert_context);
    return false;
}

}  // namespace

void hnsw_insert_vector(Relation index, IndexMetric metric, const float *vector, int dim, ItemPointer heap_tid)
{
    HnswMeta meta = hnsw_read_meta(index);
    if (meta.dimensions == 0)
        meta.dimensions = hnsw_update_meta(index, static_cast<uint32>(dim), nullptr, 0, false, InvalidBlockNumber);
    if (static_cast<uint32>(dim) != meta.dimensions)
        report_unexpected_dim(static_cast<int32>(meta.dimensions), dim);

    const int level = random_level(meta.m, meta.layout().max_level());
    LOCKMODE mode = level > meta.entry_level ? ExclusiveLock : ShareLock;
    LockPage(index, kHnswMetaBlock, mode);
    meta = hnsw_read_meta(index);
    if (level > meta.entry_level && mode == ShareLock) {
        // The entry point was lowered (by VACUUM) in between: we may raise it after all.
        UnlockPage(index, kHnswMetaBlock, mode);
        mode = ExclusiveLock;
        LockPage(index, kHnswMetaBlock, mode);
        meta = hnsw_read_meta(index);
    }
    Inserter inserter(index, metric, meta, vector);
    inserter.insert(heap_tid, level);
    inserter.release();
    UnlockPage(index, kHnswMetaBlock, mode);
}

void hnsw_link_element(Relation index, IndexMetric metric, const float *vector, ItemPointer tid)
{
    LockPage(index, kHnswMetaBlock, ShareLock);
    const HnswMeta meta = hnsw_read_meta(index);
    Inserter inserter(index, metric, meta, vector);
    inserter.link_in(*tid);
    inserter.release();
    UnlockPage(index, kHnswMetaBlock, ShareLock);
}

bool hnsw_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
                 IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo *index_info)
{
    (void)heap;
    (void)check_unique;
    (void)index_unchanged;
    (void)index_info;
    return guarded_call("hnsw insert", [&]() { return insert_row(index, values, isnull, heap_tid); });
}

}  // namespace ann::pg
