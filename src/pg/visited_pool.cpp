#include "pg/visited_pool.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace ann::pg {

namespace {

constexpr int kKeptBlocks = 4;
constexpr Size kLargestKeptBlock = 4 * 1024 * 1024;

// Room before each block for its size, which a later request must match exactly.
constexpr Size kHeaderBytes = MAXALIGN(sizeof(Size));

struct KeptBlock {
    char *start;  // null when the place is free
    Size bytes;
};

MemoryContext pool_context;
KeptBlock kept[kKeptBlocks];

void *take(void *, std::size_t bytes) noexcept
{
    for (KeptBlock &block : kept) {
        if (block.start != nullptr && block.bytes == bytes) {
            char *start = block.start;
            block.start = nullptr;
            return start + kHeaderBytes;
        }
    }
    auto *start = static_cast<char *>(
        MemoryContextAllocExtended(pool_context, kHeaderBytes + bytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM));
    if (start == nullptr)
        return nullptr;
    *reinterpret_cast<Size *>(start) = bytes;
    return start + kHeaderBytes;
}

void give_back(void *, void *memory) noexcept
{
    char *start = static_cast<char *>(memory) - kHeaderBytes;
    const Size bytes = *reinterpret_cast<const Size *>(start);
    if (bytes <= kLargestKeptBlock) {
        for (KeptBlock &block : kept) {
            if (block.start == nullptr) {
                block = KeptBlock{start, bytes};
                return;
            }
        }
    }
    pfree(start);
}

}  // namespace

core::MemoryHooks visited_pool_hooks()
{
    // Created here, where an error may be raised, not in take(), which the core calls.
    if (pool_context == nullptr)
        pool_context = AllocSetContextCreate(TopMemoryContext, "hnsw visited sets", ALLOCSET_DEFAULT_SIZES);
    return core::MemoryHooks{nullptr, take, give_back};
}

}  // namespace ann::pg
