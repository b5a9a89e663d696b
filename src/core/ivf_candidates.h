// The rows an inverted-file scan has ranked, handed out nearest first within a fixed memory
// budget. Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/hnsw_memory.h"

namespace ann::core {

// A scan does not know its LIMIT, so it must be able to return every row of the lists it
// probed, in order. Rows are ranked by (distance, id), a total order, and collected in
// passes over the probed lists: a pass keeps the `capacity` smallest rows ranked after the
// last one handed out (a max-heap once full), then turns them into a min-heap popped one
// row per call. Usually one pass holds everything and only the few rows a LIMIT takes are
// ever popped, so ordering costs O(n) plus O(log n) per row. When a pass had to drop rows,
// the caller runs another pass once the kept ones are used up.
class IvfCandidates {
public:
    struct Entry {
        float distance;
        std::uint64_t id;
    };

    // Keeps at most `capacity` entries; the array starts small and doubles up to that, so a
    // generous budget costs nothing until rows fill it. False when memory runs out.
    bool init(const MemoryHooks &hooks, std::uint32_t capacity) noexcept
    {
        hooks_ = hooks;
        capacity_ = capacity < 1 ? 1 : capacity;
        allocated_ = 0;
        entries_ = nullptr;
        restart();
        return grow();
    }

    void release() noexcept
    {
        if (entries_ != nullptr)
            hooks_.release(hooks_.context, entries_);
        entries_ = nullptr;
    }

    // Forgets everything, including what was handed out: a new query.
    void restart() noexcept
    {
        size_ = 0;
        popped_ = 0;
        has_bound_ = false;
        dropped_ = false;
    }

    // Starts collecting the next pass: rows at or before the last one handed out are ignored.
    void begin_pass() noexcept
    {
        size_ = 0;
        popped_ = 0;
        dropped_ = false;
    }

    // False when memory runs out.
    bool offer(float distance, std::uint64_t id) noexcept
    {
        const Entry entry{distance, id};
        if (has_bound_ && !before(bound_, entry))
            return true;
        if (size_ < capacity_) {
            if (size_ == allocated_ && !grow())
                return false;
            entries_[size_++] = entry;
            if (size_ == capacity_)
                std::make_heap(entries_, entries_ + size_, before);
            return true;
        }
        dropped_ = true;
        if (before(entry, entries_[0])) {
            std::pop_heap(entries_, entries_ + size_, before);
            entries_[size_ - 1] = entry;
            std::push_heap(entries_, entries_ + size_, before);
        }
        return true;
    }

    // Ends collection: the kept rows become ready to pop.
    void end_pass() noexcept
    {
        std::make_heap(entries_, entries_ + size_, after);
        popped_ = 0;
    }

    // The nearest row not yet handed out by this pass.
    bool pop(float *distance, std::uint64_t *id) noexcept
    {
        if (popped_ == size_)
            return false;
        std::pop_heap(entries_, entries_ + (size_ - popped_), after);
        popped_++;
        const Entry &entry = entries_[size_ - popped_];
        bound_ = entry;
        has_bound_ = true;
        *distance = entry.distance;
        *id = entry.id;
        return true;
    }

    // True when the pass dropped rows, so another pass finds more after the popped ones.
    bool pass_dropped_rows() const noexcept { return dropped_; }
    std::uint32_t capacity() const noexcept { return capacity_; }

private:
    bool grow() noexcept
    {
        std::uint32_t target = allocated_ == 0 ? 4096 : allocated_ * 2;
        if (target > capacity_ || target < allocated_)
            target = capacity_;
        auto *entries = static_cast<Entry *>(hooks_.allocate(hooks_.context, sizeof(Entry) * target));
        if (entries == nullptr)
            return false;
        if (entries_ != nullptr) {
            std::memcpy(entries, entries_, sizeof(Entry) * size_);
            hooks_.release(hooks_.context, entries_);
        }
        entries_ = entries;
        allocated_ = target;
        return true;
    }

    static bool before(const Entry &a, const Entry &b) noexcept
    {
        return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
    }
    static bool after(const Entry &a, const Entry &b) noexcept { return before(b, a); }

    MemoryHooks hooks_{};
    Entry *entries_ = nullptr;
    std::uint32_t capacity_ = 0;
    std::uint32_t allocated_ = 0;
    std::uint32_t size_ = 0;
    std::uint32_t popped_ = 0;
    Entry bound_{};
    bool has_bound_ = false;
    bool dropped_ = false;
};

}  // namespace ann::core
