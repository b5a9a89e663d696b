// Visited sets for graph search, both cleared in O(1) between layers by bumping an epoch.
// The build walks dense uint32 node ids and uses a flat tag array; an index scan walks
// 64-bit on-disk ids and uses an open-addressing hash set. Both expose the same
// mark / reset / prefetch interface so the search code is written once (see hnsw_search.h).
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hnsw_memory.h"

namespace ann::core {

// One 16-bit tag per node: a node is visited when its tag equals the current epoch. 16 bits
// keep the array small (400 KB for 200,000 nodes) while a full clear is only needed every
// 65,535 resets. (A bitmap cleared through a list of marked ids measured no faster.)
class DenseVisitedSet {
public:
    using Id = std::uint32_t;

    // `node_count` bounds the ids that will be marked.
    HnswStatus init(const MemoryHooks &hooks, std::uint32_t node_count) noexcept;
    void release() noexcept;

    void reset() noexcept;

    // True when `id` was not yet visited in this epoch (and marks it).
    bool mark(Id id) noexcept
    {
        if (tags_[id] == epoch_)
            return false;
        tags_[id] = epoch_;
        return true;
    }

    void prefetch(Id id) const noexcept { __builtin_prefetch(tags_ + id, 1, 3); }

private:
    MemoryHooks hooks_{};
    std::uint16_t *tags_ = nullptr;
    std::uint32_t node_count_ = 0;
    std::uint16_t epoch_ = 0;
};

// Linear-probing set of 48-bit ids (a Postgres item pointer is block << 16 | offset). The top
// 16 bits of each slot hold the epoch the slot was written in, so slots of older epochs read
// as empty and reset() needs no clearing. The table doubles through the memory hooks at half
// load; if the hooks refuse, it keeps filling up to a hard limit and then reports every
// further id as already visited (the search stays finite, merely narrower) and sets
// overflowed(), which the caller may report.
class HashVisitedSet {
public:
    using Id = std::uint64_t;
    static constexpr int kIdBits = 48;
    static constexpr Id kMaxId = (Id(1) << kIdBits) - 1;

    // Sized for `expected_count` marks per epoch without growing.
    HnswStatus init(const MemoryHooks &hooks, std::uint32_t expected_count) noexcept;
    void release() noexcept;

    void reset() noexcept;

    // True when `id` (at most kMaxId) was not yet visited in this epoch (and marks it).
    bool mark(Id id) noexcept
    {
        if (__builtin_expect(used_ >= grow_threshold_, 0))
            return mark_when_full(id);
        const std::uint64_t key = epoch_tag_ | id;
        for (std::size_t slot = home_slot(id);; slot = (slot + 1) & slot_mask_) {
            const std::uint64_t occupant = slots_[slot];
            if (occupant == key)
                return false;
            if ((occupant & ~kMaxId) != epoch_tag_) {
                slots_[slot] = key;
                ++used_;
                return true;
            }
        }
    }

    void prefetch(Id id) const noexcept { __builtin_prefetch(slots_ + home_slot(id), 1, 3); }

    bool overflowed() const noexcept { return overflowed_; }
    std::size_t slot_count() const noexcept { return slot_mask_ + 1; }

private:
    std::size_t home_slot(Id id) const noexcept
    {
        // Fibonacci hashing: item pointers differ mostly in their low bits, the multiply
        // spreads them over the high bits that the shift keeps.
        return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> hash_shift_);
    }
    bool mark_when_full(Id id) noexcept;
    bool allocate_slots(std::size_t slot_count) noexcept;

    MemoryHooks hooks_{};
    std::uint64_t *slots_ = nullptr;
    std::size_t slot_mask_ = 0;
    std::size_t used_ = 0;
    std::size_t grow_threshold_ = 0;
    int hash_shift_ = 64;
    std::uint64_t epoch_tag_ = 0;
    bool overflowed_ = false;
};

}  // namespace ann::core
