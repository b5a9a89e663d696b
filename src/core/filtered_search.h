// Continuing a layer-0 search for the nearest nodes that pass a filter only the driver can
// evaluate (an index scan's WHERE clause, checked against the table).
//
// An unfiltered search keeps the ef nearest nodes, so under a filter that passes 1% of the
// rows about 0.4 of its results survive. This search bounds itself by the ef-th nearest
// node that *passes* instead: it expands every node nearer than that, passing or not (the
// ones that fail are still the road to the ones that pass), as hnswlib's filtered search
// does. It continues a SearchState that kept what it let go (spill_into): that frontier,
// nearest first, is its candidate queue, and the state's visited set stays shared, so the
// nodes the first search expanded are not expanded again. The driver runs
//
//     filtered.begin_batch(ef);
//     for (each result of the first search)
//         if (filtered.within_limit(distance) && passes(it)) filtered.accept(it, distance);
//     while (filtered.pop(&node, &distance)) {
//         if (filtered.within_limit(distance) && passes(node)) filtered.accept(node, distance);
//         for (neighbour of node)                          // within its budget
//             if (filtered.mark_visited(neighbour))
//                 filtered.offer(neighbour, distance(query, neighbour));
//     }
//     results: result_count(), result_id(i), result_distance(i), nearest first
//
// and, for more rows, begin_batch() again: the frontier holds everything seen and not yet
// popped, so the next batch goes on where this one stopped.
//
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>
#include <limits>

#include "core/hnsw_search.h"

namespace ann::core {

template <typename VisitedSet>
class FilteredSearch {
public:
    using Id = typename VisitedSet::Id;

    HnswStatus init(const MemoryHooks &hooks, std::uint32_t ef) noexcept
    {
        return accepted_.init(hooks, ef < 1 ? 1 : ef);
    }

    void release() noexcept { accepted_.release(); }

    // `search` has run its first layer-0 search with `frontier` attached through spill_into.
    void attach(SearchState<VisitedSet> *search, SpillHeap<Id> *frontier) noexcept
    {
        search_ = search;
        frontier_ = frontier;
        frontier_complete_ = true;
        distance_limit_ = std::numeric_limits<float>::infinity();
    }

    // No node further than `limit` can pass (the query bounds the distance it is ordered by),
    // so the search need not walk its whole budget: it ends once it has expanded everything
    // within the limit and, nearest first, `margin` nodes beyond it, since the way to a node
    // within the limit may lead outside it. The first search's results beyond the limit,
    // expanded already, count towards the margin. After attach().
    void limit_distance(float limit, std::uint32_t margin) noexcept
    {
        distance_limit_ = limit;
        margin_left_ = margin;
        for (std::uint32_t i = 0; i < search_->result_count() && margin_left_ > 0; i++)
            margin_left_ -= within_limit(search_->result_distance(i)) ? 0 : 1;
    }

    bool within_limit(float distance) const noexcept { return distance <= distance_limit_; }
    float distance_limit() const noexcept { return distance_limit_; }

    // Starts collecting the next `ef` passing nodes. Fails only if a larger ef cannot be
    // allocated.
    HnswStatus begin_batch(std::uint32_t ef) noexcept
    {
        ef = ef < 1 ? 1 : ef;
        const HnswStatus status = accepted_.reserve(ef);
        if (status == HnswStatus::ok)
            accepted_.clear(ef);
        return status;
    }

    // The nearest node left to consider, while it is nearer than the ef-th passing node of
    // this batch, and within the distance limit or its margin.
    bool pop(Id *id, float *distance) noexcept
    {
        if (frontier_->empty())
            return false;
        const float nearest = frontier_->nearest_distance();
        if (!(nearest < accepted_.admission_bound()))
            return false;
        if (!within_limit(nearest)) {
            if (margin_left_ == 0)
                return false;
            margin_left_--;
        }
        return frontier_->pop(id, distance);
    }

    // A node that passes the filter. One that a full batch lets go for it returns to the
    // frontier, so that the next batch finds it again: it was expanded already and would
    // not be offered a second time.
    void accept(Id id, float distance) noexcept
    {
        accepted_.insert(id, distance, [this](Id let_go, float let_go_distance) noexcept {
            offer(let_go, let_go_distance);
        });
    }

    // The driver's expansion loop, as for a SearchState (layer 0 only).
    int level() const noexcept { return 0; }
    bool mark_visited(Id id) noexcept { return search_->mark_visited(id); }
    void offer(Id id, float distance) noexcept
    {
        frontier_complete_ = frontier_->push(id, distance) && frontier_complete_;
    }

    // Nodes marked visited since the first search started.
    std::uint64_t visits() const noexcept { return search_->visits(); }
    // False once a node could not be kept (out of memory): later batches may then miss
    // nodes, though all they return still pass.
    bool frontier_complete() const noexcept { return frontier_complete_ && search_->spill_complete(); }

    // Passing nodes of this batch, nearest first.
    std::uint32_t result_count() const noexcept { return accepted_.size(); }
    Id result_id(std::uint32_t i) const noexcept { return accepted_.id(i); }
    float result_distance(std::uint32_t i) const noexcept { return accepted_.distance(i); }

private:
    CandidatePool<Id> accepted_;
    SearchState<VisitedSet> *search_ = nullptr;
    SpillHeap<Id> *frontier_ = nullptr;
    bool frontier_complete_ = true;
    float distance_limit_ = std::numeric_limits<float>::infinity();
    std::uint32_t margin_left_ = 0;  // nodes beyond the limit the search may still expand
};

using ScanFilteredSearch = FilteredSearch<HashVisitedSet>;

}  // namespace ann::core
