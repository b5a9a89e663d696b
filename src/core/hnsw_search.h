// HNSW layer search, driven from outside ("pull" style) so that the caller owns all I/O.
//
// The state never touches the graph. Its driver, the in-memory build (hnsw_build.cpp) or
// the index scan of the Postgres adapter, runs this loop:
//
//     state.start(entry, distance(query, entry), entry_level, ef);
//     while (state.pop_candidate(&node)) {
//         for (neighbour of node at state.level())        // the driver reads the links
//             if (state.mark_visited(neighbour))
//                 state.offer(neighbour, distance(query, neighbour));
//     }
//     for (i < state.result_count()) ... state.result_id(i) ...   // nearest first
//
// Layers above `wide_level` are searched greedily (width 1) and left automatically; the
// loop ends after each layer at or below it, where the caller may act on the results
// (the build selects neighbours there) and call descend() to search the next layer down,
// seeded with those results. An index scan sets wide_level 0, so one loop does it all.
//
// Memory latency, not arithmetic, bounds a graph search. A fast driver marks all of a node's
// links first, starts loading the vectors of the fresh ones, and only then computes their
// distances in order; while it does, it can load the links of peek_candidate() (see
// expand_layer in hnsw_build.cpp, or the adapter emulation in bench/bench_hnsw_core.cpp).
//
// Continuing a finished search (iterative index scans) needs only the entries the pool
// lets go on layer 0: with a SpillHeap attached (spill_into) they are kept there, and
// resume() seeds the pool with the nearest of them. The driver runs its loop again and
// gets the next results; the visited set stays, so nothing is returned twice.
//
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>

#include "core/hnsw_memory.h"
#include "core/spill_heap.h"
#include "core/top_k.h"
#include "core/visited_set.h"

namespace ann::core {

template <typename VisitedSet>
class SearchState {
public:
    using Id = typename VisitedSet::Id;

    // `ef` sizes the pool (start() grows it for a larger ef); `visited_hint` sizes the visited
    // set: the node count for DenseVisitedSet, the expected marks per layer for
    // HashVisitedSet, for which expected_scan_visits() is a generous estimate. The visited
    // set's memory may come from hooks of its own.
    HnswStatus init(const MemoryHooks &hooks, std::uint32_t ef, std::uint32_t visited_hint) noexcept
    {
        return init(hooks, ef, visited_hint, hooks);
    }
    HnswStatus init(const MemoryHooks &hooks, std::uint32_t ef, std::uint32_t visited_hint,
                    const MemoryHooks &visited_hooks) noexcept
    {
        const HnswStatus status = pool_.init(hooks, ef < 1 ? 1 : ef);
        if (status != HnswStatus::ok)
            return status;
        return visited_.init(visited_hooks, visited_hint);
    }

    void release() noexcept
    {
        pool_.release();
        visited_.release();
    }

    // Gives the visited set's memory back alone; release() does it too, and either may follow.
    void release_visited() noexcept { visited_.release(); }

    // Begins a search at `entry`, which sits on layers 0..entry_level; layers at or below
    // `wide_level` are searched `ef` wide. Fails only if a larger ef cannot be allocated.
    HnswStatus start(Id entry, float entry_distance, int entry_level, int wide_level,
                     std::uint32_t ef) noexcept
    {
        ef_ = ef < 1 ? 1 : ef;
        const HnswStatus status = pool_.reserve(ef_);
        if (status != HnswStatus::ok)
            return status;
        level_ = entry_level;
        wide_level_ = wide_level;
        pool_.clear(width_at(level_));
        visited_.reset();
        visits_ = 1;
        if (spill_ != nullptr)
            spill_->clear();
        if (runners_up_ != nullptr)
            runners_up_->clear(runners_up_->capacity());
        visited_.mark(entry);
        pool_.insert(entry, entry_distance);
        return HnswStatus::ok;
    }

    // An index scan: greedy down to layer 0, then ef wide.
    HnswStatus start(Id entry, float entry_distance, int entry_level, std::uint32_t ef) noexcept
    {
        return start(entry, entry_distance, entry_level, 0, ef);
    }

    // The next node whose links the driver must read, on layer level(). False once the
    // current wide layer is exhausted.
    bool pop_candidate(Id *node) noexcept
    {
        while (!pool_.pop_nearest_unexpanded(node)) {
            if (level_ <= wide_level_)
                return false;
            move_down();
        }
        return true;
    }

    int level() const noexcept { return level_; }

    // The node pop_candidate would return next if nothing nearer is offered first, so the
    // driver can start loading its links early (a prefetch, or PrefetchBuffer for a page).
    bool peek_candidate(Id *node) const noexcept { return pool_.peek_nearest_unexpanded(node); }

    // True the first time `id` is seen on this layer: the driver should then compute its
    // distance and offer it.
    bool mark_visited(Id id) noexcept
    {
        const bool fresh = visited_.mark(id);
        visits_ += fresh ? 1 : 0;
        return fresh;
    }
    void prefetch_visited(Id id) const noexcept { visited_.prefetch(id); }

    // True when the node entered the results (and the candidate queue).
    bool offer(Id id, float distance) noexcept
    {
        if (level_ != 0 || (spill_ == nullptr && runners_up_ == nullptr))
            return pool_.insert(id, distance);
        return pool_.insert(id, distance, [this](Id let_go, float let_go_distance) noexcept {
            if (spill_ != nullptr)
                spill_complete_ = spill_->push(let_go, let_go_distance) && spill_complete_;
            if (runners_up_ != nullptr)
                runners_up_->insert(let_go, let_go_distance);
        });
    }

    // Keeps, from the next start() on, the nearest nodes layer 0 lets go in `runners_up`, as
    // many as its capacity, which must be at least 1 (nullptr: none). They rank right after
    // the results: each was let go for `ef` nearer ones, and the pool only gets nearer.
    void keep_runners_up(CandidatePool<Id> *runners_up) noexcept { runners_up_ = runners_up; }

    // Keeps what layer 0 lets go in `spill` from the next start() on (nullptr: nothing).
    void spill_into(SpillHeap<Id> *spill) noexcept
    {
        spill_ = spill;
        spill_complete_ = true;
    }

    // After layer 0 is exhausted and its results consumed: seeds the pool, `ef` wide, with
    // the nearest spilled nodes. False when nothing is left to search.
    bool resume(std::uint32_t ef) noexcept
    {
        if (spill_ == nullptr || level_ != 0 || pool_.reserve(ef) != HnswStatus::ok)
            return false;
        ef_ = ef < 1 ? 1 : ef;
        pool_.clear(ef_);
        Id id;
        float distance;
        while (pool_.size() < ef_ && spill_->pop(&id, &distance))
            pool_.insert(id, distance);
        return pool_.size() > 0;
    }

    // Nodes marked visited since start(), across resumes.
    std::uint64_t visits() const noexcept { return visits_; }
    // False once a let-go node could not be kept (out of memory): a resumed search may then
    // miss nodes, though all it returns are still correct.
    bool spill_complete() const noexcept { return spill_complete_; }

    // A node at this distance or farther would be refused: lets a driver skip work (or stop
    // a partial distance computation early) for hopeless nodes.
    float admission_bound() const noexcept { return pool_.admission_bound(); }

    // Moves to the next layer down, seeded with the current results. False on layer 0.
    bool descend() noexcept
    {
        if (level_ == 0)
            return false;
        move_down();
        return true;
    }

    // Results of the current layer, nearest first.
    std::uint32_t result_count() const noexcept { return pool_.size(); }
    Id result_id(std::uint32_t i) const noexcept { return pool_.id(i); }
    float result_distance(std::uint32_t i) const noexcept { return pool_.distance(i); }

    const VisitedSet &visited() const noexcept { return visited_; }

private:
    std::uint32_t width_at(int level) const noexcept { return level <= wide_level_ ? ef_ : 1; }

    void move_down() noexcept
    {
        --level_;
        pool_.restart(width_at(level_));
        visited_.reset();
        for (std::uint32_t i = 0; i < pool_.size(); ++i)
            visited_.mark(pool_.id(i));
    }

    CandidatePool<Id> pool_;
    VisitedSet visited_;
    SpillHeap<Id> *spill_ = nullptr;
    CandidatePool<Id> *runners_up_ = nullptr;
    bool spill_complete_ = true;
    std::uint64_t visits_ = 0;
    std::uint32_t ef_ = 1;
    int level_ = 0;
    int wide_level_ = 0;
};

// Nodes a scan of layer 0 marks visited: about ef * m on GloVe-100 with m = 16 (820 at
// ef 40, 2,500 at ef 160); twice that leaves room for harder data before the set must grow.
constexpr std::uint32_t expected_scan_visits(std::uint32_t ef, std::uint32_t m) noexcept
{
    return 2 * ef * m;
}

// The build walks dense in-memory node ids; an index scan walks 48-bit on-disk ids.
using BuildSearchState = SearchState<DenseVisitedSet>;
using ScanSearchState = SearchState<HashVisitedSet>;

}  // namespace ann::core
