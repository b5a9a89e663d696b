// Inserting nodes into an in-memory HnswGraph (CREATE INDEX), and searching it.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>

#include "core/hnsw_graph.h"
#include "core/hnsw_memory.h"
#include "core/hnsw_search.h"

namespace ann::core {

// One inserting process's scratch: a visited tag per node (2 bytes) plus the search pool and
// the pruning buffers, allocated once in init(). Several builders (one per process) may insert
// into one shared graph at the same time when given a locking implementation.
//
// Usage: init, then insert(i) once for every node whose vector is in place, in any order
// (the adapter checks for interrupts between calls), then link_unreachable_nodes(), then
// release (or let the memory context go). The builder has no destructor.
class HnswBuilder {
public:
    HnswStatus init(HnswGraph &graph, const MemoryHooks &hooks,
                    const HnswLocking *locking = nullptr) noexcept;
    void release() noexcept;

    // Links `node` into the graph, or records it as a copy of a linked node with exactly the
    // same vector (see HnswGraph::copy_of). Each node once.
    HnswStatus insert(std::uint32_t node) noexcept;

    // Once every node is inserted (by all builders; one process runs this, with no builder
    // active): makes every linked node reachable on layer 0 from the entry point, so that
    // every row stays findable. It walks the links from the entry, and links each node the
    // walk missed from a reached node near it (displacing a link, which the relinked node
    // then takes over, if the anchor's list is full), then walks on from there: O(N * 2m)
    // plus a search per relinked node. The build keeps every node's last link in, so this
    // finds little work: pairs or small clusters linked only among themselves, or a race
    // between concurrent builders. Needs 5 bytes per node of scratch from the hooks;
    // `relinked` (optional) counts the nodes it linked (each may bring others with it).
    HnswStatus link_unreachable_nodes(std::uint32_t *relinked = nullptr) noexcept;

private:
    std::uint32_t find_copy(std::uint32_t node) const noexcept;
    void record_copy(std::uint32_t node, std::uint32_t original) noexcept;
    void connect(std::uint32_t node, int level) noexcept;
    void add_reverse_link(std::uint32_t target, std::uint32_t node, int level,
                          float distance) noexcept;
    void add_candidate(std::uint32_t id, float distance) noexcept;
    void link_from(std::uint32_t anchor, std::uint32_t node) noexcept;
    bool same_vector(std::uint32_t a, std::uint32_t b) const noexcept;

    // Atomic: builders in other processes update the counts of nodes they do not lock.
    std::uint32_t in_degree(std::uint32_t node) const noexcept
    {
        return __atomic_load_n(&graph_->in_degree_[node], __ATOMIC_RELAXED);
    }
    void add_in_degree(std::uint32_t node, int delta) const noexcept
    {
        __atomic_add_fetch(&graph_->in_degree_[node], std::uint32_t(delta), __ATOMIC_RELAXED);
    }
    // Gives up one link into `node` unless it is the last one.
    bool release_in_link(std::uint32_t node) const noexcept
    {
        std::uint32_t links_in = in_degree(node);
        while (links_in >= 2) {
            if (__atomic_compare_exchange_n(&graph_->in_degree_[node], &links_in, links_in - 1,
                                            false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                return true;
        }
        return false;
    }

    void lock(std::uint32_t node) const noexcept
    {
        if (locking_ != nullptr)
            locking_->lock_node(locking_->context, node);
    }
    void unlock(std::uint32_t node) const noexcept
    {
        if (locking_ != nullptr)
            locking_->unlock_node(locking_->context, node);
    }

    HnswGraph *graph_ = nullptr;
    const HnswLocking *locking_ = nullptr;
    MemoryHooks hooks_{};
    BuildSearchState search_;
    // The nearest nodes the layer-0 search let go: the links are chosen among them too.
    CandidatePool<std::uint32_t> runners_up_;
    // Candidates for a link list, sorted by distance to its owner: a full list plus the new
    // node when pruning, or the search's results and runners-up when connecting.
    std::uint32_t *candidate_ids_ = nullptr;
    float *candidate_distances_ = nullptr;
    std::uint32_t candidate_count_ = 0;
    std::uint32_t *selected_ = nullptr;
    // The candidates' diversity tags (hnsw_select.h), and scratch for updating them.
    std::uint16_t *candidate_tags_ = nullptr;
    std::uint16_t *newly_kept_ = nullptr;
};

// The k nearest of a built graph to `query`, nearest first, searching `ef` wide (at least k).
// For tests and tools: an index scan reads the graph from pages with a ScanSearchState.
// `state` must have been initialised for the graph's capacity.
std::uint32_t search_graph(const HnswGraph &graph, BuildSearchState &state, const float *query,
                           std::uint32_t ef, std::uint32_t k, std::uint32_t *ids,
                           float *distances) noexcept;

}  // namespace ann::core
