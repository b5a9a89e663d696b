// The nodes a bounded graph search let go (refused by its candidate pool, or evicted from
// it), nearest on top, so that an iterative index scan can resume the search from them
// once it has handed out its first results.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/hnsw_memory.h"

namespace ann::core {

template <typename Id>
class SpillHeap {
public:
    struct Entry {
        float distance;
        Id id;
    };

    void init(const MemoryHooks &hooks) noexcept
    {
        hooks_ = hooks;
        entries_ = nullptr;
        size_ = 0;
        capacity_ = 0;
    }

    void release() noexcept
    {
        if (entries_ != nullptr)
            hooks_.release(hooks_.context, entries_);
        entries_ = nullptr;
        size_ = 0;
        capacity_ = 0;
    }

    void clear() noexcept { size_ = 0; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    std::size_t bytes() const noexcept { return capacity_ * sizeof(Entry); }

    // False when the heap could not grow (the entry is then lost).
    bool push(Id id, float distance) noexcept
    {
        if (size_ == capacity_ && !grow())
            return false;
        std::size_t at = size_++;
        while (at > 0) {
            const std::size_t parent = (at - 1) / 2;
            if (!(distance < entries_[parent].distance))
                break;
            entries_[at] = entries_[parent];
            at = parent;
        }
        entries_[at] = Entry{distance, id};
        return true;
    }

    // The nearest entry's distance; the heap must not be empty.
    float nearest_distance() const noexcept { return entries_[0].distance; }

    // Removes the nearest entry.
    bool pop(Id *id, float *distance) noexcept
    {
        if (size_ == 0)
            return false;
        *id = entries_[0].id;
        *distance = entries_[0].distance;
        const Entry last = entries_[--size_];
        std::size_t at = 0;
        for (;;) {
            std::size_t child = 2 * at + 1;
            if (child >= size_)
                break;
            if (child + 1 < size_ && entries_[child + 1].distance < entries_[child].distance)
                ++child;
            if (!(entries_[child].distance < last.distance))
                break;
            entries_[at] = entries_[child];
            at = child;
        }
        entries_[at] = last;
        return true;
    }

private:
    bool grow() noexcept
    {
        const std::size_t capacity = capacity_ == 0 ? 1024 : 2 * capacity_;
        auto *entries = static_cast<Entry *>(hooks_.allocate(hooks_.context, capacity * sizeof(Entry)));
        if (entries == nullptr)
            return false;
        if (entries_ != nullptr) {
            std::memcpy(entries, entries_, size_ * sizeof(Entry));
            hooks_.release(hooks_.context, entries_);
        }
        entries_ = entries;
        capacity_ = capacity;
        return true;
    }

    MemoryHooks hooks_{};
    Entry *entries_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace ann::core
