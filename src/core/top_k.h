// The bounded candidate pool of a best-first graph search.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/hnsw_memory.h"

namespace ann::core {

// One sorted array of the `width` nearest nodes seen so far, each flagged once expanded. It
// plays both roles of the textbook pair of heaps: the entries are the result set (W), and
// the unexpanded ones are the candidate queue (C), popped nearest first through a cursor.
// Candidates that fall off the end of the array are exactly those the two-heap search would
// never expand (they are farther than the ef-th result), so the search visits the same
// nodes. Compared with two heaps this keeps each node once, pops in O(1) amortised, inserts
// with a branch-free binary search plus one short memmove (entries are 8 or 16 bytes and ef is
// at most a few hundred), and leaves the results already sorted for neighbour selection and
// for returning tuples nearest first.
//
// The expanded flag lives in the top bit of the id, so ids must leave that bit clear.
template <typename Id>
class CandidatePool {
    static_assert(std::is_unsigned_v<Id>, "ids are unsigned integers");

public:
    static constexpr Id kExpandedBit = Id(1) << (8 * sizeof(Id) - 1);
    static constexpr Id kMaxId = kExpandedBit - 1;

    struct Entry {
        float distance;
        Id tagged_id;
    };

    HnswStatus init(const MemoryHooks &hooks, std::uint32_t capacity) noexcept
    {
        hooks_ = hooks;
        entries_ = nullptr;
        capacity_ = 0;
        clear(0);
        return reserve(capacity);
    }

    void release() noexcept
    {
        if (entries_ != nullptr)
            hooks_.release(hooks_.context, entries_);
        entries_ = nullptr;
        capacity_ = 0;
    }

    // Grows the array (dropping its contents) when `capacity` exceeds the current one.
    HnswStatus reserve(std::uint32_t capacity) noexcept
    {
        if (capacity <= capacity_)
            return HnswStatus::ok;
        auto *entries = static_cast<Entry *>(hooks_.allocate(hooks_.context, capacity * sizeof(Entry)));
        if (entries == nullptr)
            return HnswStatus::out_of_memory;
        release();
        entries_ = entries;
        capacity_ = capacity;
        clear(0);
        return HnswStatus::ok;
    }

    std::uint32_t capacity() const noexcept { return capacity_; }
    std::uint32_t width() const noexcept { return width_; }
    std::uint32_t size() const noexcept { return size_; }
    Id id(std::uint32_t i) const noexcept { return entries_[i].tagged_id & kMaxId; }
    float distance(std::uint32_t i) const noexcept { return entries_[i].distance; }

    // Empties the pool and bounds it to the nearest `width` entries (width <= capacity).
    void clear(std::uint32_t width) noexcept
    {
        width_ = width;
        size_ = 0;
        cursor_ = 0;
    }

    // Keeps the nearest `width` entries as unexpanded seeds for a search of the next layer.
    void restart(std::uint32_t width) noexcept
    {
        width_ = width;
        if (size_ > width)
            size_ = width;
        for (std::uint32_t i = 0; i < size_; ++i)
            entries_[i].tagged_id &= kMaxId;
        cursor_ = 0;
    }

    // The distance a new entry must beat to be kept; +inf while the pool has room.
    float admission_bound() const noexcept
    {
        return size_ < width_ ? std::numeric_limits<float>::infinity() : entries_[size_ - 1].distance;
    }

    // Adds `id` unless the pool is full of nearer (or equally near) nodes. Equal distances keep
    // arrival order, so a flood of ties cannot evict what was found first.
    bool insert(Id id, float distance) noexcept
    {
        return insert(id, distance, [](Id, float) noexcept {});
    }

    // The same, handing let_go(id, distance) the node the pool refuses or the one it evicts
    // to make room, so that a resumable search can keep them.
    template <typename LetGo>
    bool insert(Id id, float distance, LetGo &&let_go) noexcept
    {
        if (!(distance < admission_bound())) {
            let_go(id, distance);
            return false;
        }
        if (size_ == width_)
            let_go(entries_[size_ - 1].tagged_id & kMaxId, entries_[size_ - 1].distance);
        const std::uint32_t position = upper_bound(distance);
        const std::uint32_t kept_after = size_ - position - (size_ == width_ ? 1 : 0);
        std::memmove(entries_ + position + 1, entries_ + position, kept_after * sizeof(Entry));
        entries_[position] = Entry{distance, id};
        size_ += size_ < width_ ? 1 : 0;
        cursor_ = position < cursor_ ? position : cursor_;
        return true;
    }

    // The nearest entry not yet expanded, now flagged as expanded.
    bool pop_nearest_unexpanded(Id *id) noexcept
    {
        while (cursor_ < size_ && (entries_[cursor_].tagged_id & kExpandedBit) != 0)
            ++cursor_;
        if (cursor_ == size_)
            return false;
        *id = entries_[cursor_].tagged_id;
        entries_[cursor_].tagged_id |= kExpandedBit;
        ++cursor_;
        return true;
    }

    // The entry pop_nearest_unexpanded would return now, left in place: a driver prefetches
    // its links while expanding the current node (insertions may still overtake it).
    bool peek_nearest_unexpanded(Id *id) const noexcept
    {
        std::uint32_t next = cursor_;
        while (next < size_ && (entries_[next].tagged_id & kExpandedBit) != 0)
            ++next;
        if (next == size_)
            return false;
        *id = entries_[next].tagged_id;
        return true;
    }

private:
    // First position whose distance is greater than `distance`.
    std::uint32_t upper_bound(float distance) const noexcept
    {
        if (size_ == 0)
            return 0;
        const Entry *base = entries_;
        std::uint32_t length = size_;
        while (length > 1) {
            const std::uint32_t half = length / 2;
            base = base[half].distance <= distance ? base + half : base;
            length -= half;
        }
        return static_cast<std::uint32_t>(base - entries_) + (base->distance <= distance ? 1 : 0);
    }

    MemoryHooks hooks_{};
    Entry *entries_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t width_ = 0;
    std::uint32_t size_ = 0;
    std::uint32_t cursor_ = 0;  // every entry before it is expanded
};

}  // namespace ann::core
