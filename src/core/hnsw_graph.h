// The in-memory HNSW graph built by CREATE INDEX, laid out in one caller-provided block.
//
// Everything lives in flat arrays of uint32 node ids, addressed by offsets from the start of
// the block and never by pointer, so the block may be a DSM segment that several processes
// map at different addresses and build into together (each calls attach()). The vectors stay
// in a separate caller-owned array of capacity x dimensions floats; the caller writes row i
// before inserting node i.
//
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/distance.h"
#include "core/hnsw_memory.h"

namespace ann::core {

// Lower is nearer for every metric. Cosine is negative_inner_product over vectors the caller
// has normalised.
enum class HnswMetric : std::uint8_t {
    l2_squared,
    negative_inner_product,
    l1,
};

struct HnswParams {
    std::uint32_t dimensions;
    std::uint32_t m;                // links per node above layer 0; 2 * m on layer 0; 2..kMaxM
    std::uint32_t ef_construction;  // search width while inserting
    HnswMetric metric;
    std::uint64_t seed;             // node levels are a pure function of (seed, node id, m)
    std::uint32_t max_level;        // levels are capped here (a paged node must fit a page)
};

// The distance of a metric between two vectors through the dispatched kernels.
class MetricDistance {
public:
    MetricDistance() noexcept = default;
    MetricDistance(HnswMetric metric, std::uint32_t dimensions) noexcept;

    float operator()(const float *a, const float *b) const noexcept
    {
        return sign_ * kernel_(a, b, dimensions_);
    }

    // The distance of a vector to itself, which only exact duplicates share.
    float self_distance(const float *a) const noexcept
    {
        return self_is_zero_ ? 0.0f : (*this)(a, a);
    }

    std::uint32_t dimensions() const noexcept { return dimensions_; }

private:
    DistanceKernel kernel_ = nullptr;
    std::uint32_t dimensions_ = 0;
    float sign_ = 1.0f;  // -1 turns the inner product into a distance
    bool self_is_zero_ = true;
};

// Per-node locks for building from several processes at once. A builder holds at most one
// node lock at a time and never waits for the entry lock while holding a node lock (it may
// take node locks while holding the entry lock), so no lock order can deadlock and any
// mutex-like primitive works: an LWLock per node (or per stripe of nodes) and one for the
// entry, in shared memory. A single process passes no locking at all.
struct HnswLocking {
    void *context;
    void (*lock_node)(void *context, std::uint32_t node) noexcept;
    void (*unlock_node)(void *context, std::uint32_t node) noexcept;
    void (*lock_entry)(void *context) noexcept;
    void (*unlock_entry)(void *context) noexcept;
};

class HnswGraph {
public:
    static constexpr std::uint32_t kNoNode = 0xFFFFFFFFu;
    static constexpr int kMaxLevel = 31;
    static constexpr std::uint32_t kMaxM = 128;  // pgvector allows up to 100
    // Node ids share their word with the search's expanded flag (see CandidatePool).
    static constexpr std::uint32_t kMaxCapacity = 0x7FFFFFFFu;

    // The level of a node: floor(-ln(U) / ln(m)) for U uniform in (0, 1] drawn from a hash of
    // (seed, node), so every process of a parallel build agrees without coordination.
    static int random_level(std::uint64_t seed, std::uint32_t m, std::uint32_t node) noexcept;

    // random_level capped at params.max_level.
    static int node_level(const HnswParams &params, std::uint32_t node) noexcept;

    // Bytes of the block that init() formats for `capacity` nodes; 0 for invalid parameters.
    static std::size_t required_bytes(const HnswParams &params, std::uint32_t capacity) noexcept;

    // Formats `memory` (at least required_bytes, 64-byte aligned is best) as an empty graph.
    HnswStatus init(void *memory, std::size_t bytes, const HnswParams &params,
                    std::uint32_t capacity, const float *vectors) noexcept;

    // Another process's view of a block that init() formatted.
    HnswStatus attach(void *memory, std::size_t bytes, const float *vectors) noexcept;

    struct Links {
        const std::uint32_t *ids;
        std::uint32_t count;
    };

    const HnswParams &params() const noexcept { return header_->params; }
    std::uint32_t capacity() const noexcept { return header_->capacity; }
    std::uint32_t dimensions() const noexcept { return header_->params.dimensions; }
    const MetricDistance &distance() const noexcept { return distance_; }

    // kNoNode until the first insert. With concurrent builders, read under the entry lock.
    std::uint32_t entry_point() const noexcept { return header_->entry_point; }
    int max_level() const noexcept { return header_->max_level; }

    int level(std::uint32_t node) const noexcept { return levels_[node]; }
    const float *vector(std::uint32_t node) const noexcept
    {
        return vectors_ + std::size_t(node) * header_->params.dimensions;
    }
    std::uint32_t link_capacity(int level) const noexcept
    {
        return level == 0 ? 2 * header_->params.m : header_->params.m;
    }
    // Copies: a node inserted with exactly the vector of a node already linked is not
    // linked itself but recorded as that node's copy (as pgvector stores several heap tuples
    // in one element). Thousands of copies of one vector would otherwise crowd each other's
    // link lists and cut whole regions of the graph off. copy_of() is kNoNode for a linked
    // node; next_copy() walks a linked node's copies: next_copy(linked), then next_copy of
    // that copy, and so on until kNoNode.
    std::uint32_t copy_of(std::uint32_t node) const noexcept { return copy_of_[node]; }
    std::uint32_t next_copy(std::uint32_t node) const noexcept { return next_copy_[node]; }

    // 1 / |v| of an inserted node's vector (0 for a zero vector), kept for the inner-product
    // metric only, whose neighbour selection compares angles (see hnsw_select.h); 0 for the
    // other metrics.
    float inverse_norm(std::uint32_t node) const noexcept { return inverse_norms_[node]; }

    // True while every vector inserted so far has unit length (within 1e-4 on the squared
    // norm), as for vector_cosine_ops: the inner product's neighbour selection then needs no
    // angles, since on unit vectors they rank exactly as the inner product does.
    bool unit_vectors() const noexcept
    {
        return __atomic_load_n(&header_->non_unit_vectors, __ATOMIC_RELAXED) == 0;
    }

    // A node's links on a layer at or below its level; empty until it is inserted.
    Links links(std::uint32_t node, int level) const noexcept
    {
        const std::uint32_t *list = link_list(node, level);
        return Links{list + 1, list[0]};
    }

    // Starts loading a node's links on a layer into cache, without reading them.
    void prefetch_links(std::uint32_t node, int level) const noexcept
    {
        __builtin_prefetch(link_list(node, level), 0, 3);
    }

private:
    friend class HnswBuilder;

    // Shared by every process attached to the block.
    struct Header {
        std::uint64_t magic;
        HnswParams params;
        std::uint32_t capacity;
        std::uint32_t entry_point;
        std::int32_t max_level;
        std::uint32_t upper_block_count;
        std::uint32_t non_unit_vectors;  // 0 while unit_vectors(), then 1
    };

    struct Layout {
        std::size_t levels, upper_start, copy_of, next_copy, in_degree, inverse_norms, layer0, upper,
            layer0_distances, upper_distances, layer0_tags, upper_tags, total;
    };
    static Layout layout(const HnswParams &params, std::uint32_t capacity,
                         std::uint32_t upper_block_count) noexcept;
    HnswStatus map(void *memory, std::size_t bytes, const float *vectors) noexcept;

    // [count, id, id, ...] with room for link_capacity(level) ids.
    std::uint32_t *link_list(std::uint32_t node, int level) const noexcept
    {
        if (level == 0)
            return layer0_ + std::size_t(node) * layer0_stride_;
        return upper_ + (std::size_t(upper_start_[node]) + std::size_t(level - 1)) * upper_stride_;
    }

    // What the build keeps beside each link list so that a full list takes a new link
    // without recomputing what it knew (see HnswBuilder::add_reverse_link): each link's
    // distance to the list's owner, and the list's diversity tags (hnsw_select.h), which are
    // current only while `state` holds the diversity test they were computed for, and then
    // the list is sorted by those distances. Read and written under the owner's lock.
    struct LinkCache {
        float *distances;
        std::uint8_t *tags;
        std::uint8_t *state;
    };
    // A list's stride is its count and its links: one float per link, and one tag byte per
    // link plus the state byte.
    LinkCache link_cache(std::uint32_t node, int level) const noexcept
    {
        if (level == 0) {
            std::uint8_t *tags = layer0_tags_ + std::size_t(node) * layer0_stride_;
            return LinkCache{layer0_distances_ + std::size_t(node) * (layer0_stride_ - 1), tags,
                             tags + layer0_stride_ - 1};
        }
        const std::size_t block = std::size_t(upper_start_[node]) + std::size_t(level - 1);
        std::uint8_t *tags = upper_tags_ + block * upper_stride_;
        return LinkCache{upper_distances_ + block * (upper_stride_ - 1), tags, tags + upper_stride_ - 1};
    }

    Header *header_ = nullptr;
    const float *vectors_ = nullptr;
    std::uint8_t *levels_ = nullptr;
    std::uint32_t *upper_start_ = nullptr;  // first upper-layer block of each node
    std::uint32_t *copy_of_ = nullptr;
    std::uint32_t *next_copy_ = nullptr;
    std::uint32_t *in_degree_ = nullptr;  // layer-0 links pointing at each node
    float *inverse_norms_ = nullptr;
    std::uint32_t *layer0_ = nullptr;
    std::uint32_t *upper_ = nullptr;
    float *layer0_distances_ = nullptr;
    float *upper_distances_ = nullptr;
    std::uint8_t *layer0_tags_ = nullptr;
    std::uint8_t *upper_tags_ = nullptr;
    std::size_t layer0_stride_ = 0;
    std::size_t upper_stride_ = 0;
    MetricDistance distance_;
};

}  // namespace ann::core
