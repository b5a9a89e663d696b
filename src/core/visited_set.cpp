#include "core/visited_set.h"

#include <cstring>

namespace ann::core {

HnswStatus DenseVisitedSet::init(const MemoryHooks &hooks, std::uint32_t node_count) noexcept
{
    hooks_ = hooks;
    node_count_ = node_count;
    const std::size_t bytes = (node_count == 0 ? 1 : node_count) * sizeof(std::uint16_t);
    tags_ = static_cast<std::uint16_t *>(hooks_.allocate(hooks_.context, bytes));
    if (tags_ == nullptr)
        return HnswStatus::out_of_memory;
    std::memset(tags_, 0, bytes);
    epoch_ = 1;
    return HnswStatus::ok;
}

void DenseVisitedSet::release() noexcept
{
    if (tags_ != nullptr)
        hooks_.release(hooks_.context, tags_);
    tags_ = nullptr;
}

void DenseVisitedSet::reset() noexcept
{
    if (++epoch_ == 0) {
        std::memset(tags_, 0, std::size_t(node_count_) * sizeof(std::uint16_t));
        epoch_ = 1;
    }
}

namespace {

constexpr std::size_t kMinimumSlots = 64;
constexpr std::uint64_t kEpochStep = std::uint64_t(1) << HashVisitedSet::kIdBits;

// Past 7/8 load linear probing degrades sharply; stop there when the table cannot grow.
constexpr std::size_t hard_limit(std::size_t slot_count) noexcept { return slot_count - slot_count / 8; }

}  // namespace

bool HashVisitedSet::allocate_slots(std::size_t slot_count) noexcept
{
    auto *slots = static_cast<std::uint64_t *>(
        hooks_.allocate(hooks_.context, slot_count * sizeof(std::uint64_t)));
    if (slots == nullptr)
        return false;
    std::memset(slots, 0, slot_count * sizeof(std::uint64_t));
    slots_ = slots;
    slot_mask_ = slot_count - 1;
    grow_threshold_ = slot_count / 2;
    hash_shift_ = 64 - __builtin_ctzll(slot_count);
    return true;
}

HnswStatus HashVisitedSet::init(const MemoryHooks &hooks, std::uint32_t expected_count) noexcept
{
    hooks_ = hooks;
    std::size_t slot_count = kMinimumSlots;
    while (slot_count / 2 < expected_count)
        slot_count *= 2;
    if (!allocate_slots(slot_count))
        return HnswStatus::out_of_memory;
    used_ = 0;
    epoch_tag_ = kEpochStep;
    overflowed_ = false;
    return HnswStatus::ok;
}

void HashVisitedSet::release() noexcept
{
    if (slots_ != nullptr)
        hooks_.release(hooks_.context, slots_);
    slots_ = nullptr;
}

void HashVisitedSet::reset() noexcept
{
    used_ = 0;
    grow_threshold_ = (slot_mask_ + 1) / 2;
    epoch_tag_ += kEpochStep;
    if (epoch_tag_ == 0) {  // the 16-bit epoch wrapped: old tags would alias new ones
        std::memset(slots_, 0, (slot_mask_ + 1) * sizeof(std::uint64_t));
        epoch_tag_ = kEpochStep;
    }
}

bool HashVisitedSet::mark_when_full(Id id) noexcept
{
    const std::size_t old_count = slot_mask_ + 1;
    if (grow_threshold_ < hard_limit(old_count)) {
        std::uint64_t *old_slots = slots_;
        if (allocate_slots(old_count * 2)) {
            for (std::size_t i = 0; i < old_count; ++i) {
                const std::uint64_t key = old_slots[i];
                if ((key & ~kMaxId) != epoch_tag_)
                    continue;
                std::size_t slot = home_slot(key & kMaxId);
                while (slots_[slot] != 0)
                    slot = (slot + 1) & slot_mask_;
                slots_[slot] = key;
            }
            hooks_.release(hooks_.context, old_slots);
        } else {
            grow_threshold_ = hard_limit(old_count);
        }
        return mark(id);
    }
    const std::uint64_t key = epoch_tag_ | id;
    for (std::size_t slot = home_slot(id);; slot = (slot + 1) & slot_mask_) {
        const std::uint64_t occupant = slots_[slot];
        if (occupant == key)
            return false;
        if ((occupant & ~kMaxId) != epoch_tag_)
            break;
    }
    overflowed_ = true;
    return false;
}

}  // namespace ann::core
