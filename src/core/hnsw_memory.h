// Memory and status conventions shared by the HNSW core.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace ann::core {

enum class HnswStatus : std::uint8_t {
    ok,
    out_of_memory,
    invalid_argument,
};

// Where per-process scratch memory (search states, visited sets) comes from. In a backend
// the adapter points these at palloc_extended(MCXT_ALLOC_NO_OOM) / pfree in a scan or build
// memory context, so an allocation failure comes back as nullptr instead of a longjmp
// through C++ frames. The core never frees memory behind the caller's back except through
// `release`, and holds no destructors, so a memory-context reset is always a valid cleanup.
struct MemoryHooks {
    void *context;
    void *(*allocate)(void *context, std::size_t bytes) noexcept;
    void (*release)(void *context, void *memory) noexcept;
};

// malloc/free, for unit tests and standalone tools. Never used inside a backend.
inline MemoryHooks system_memory_hooks() noexcept
{
    return MemoryHooks{
        nullptr,
        [](void *, std::size_t bytes) noexcept { return std::malloc(bytes); },
        [](void *, void *memory) noexcept { std::free(memory); },
    };
}

// Size and alignment helpers for laying several arrays out in one caller-provided block.
constexpr std::size_t kHnswAlignment = 64;

constexpr std::size_t align_up(std::size_t bytes) noexcept
{
    return (bytes + kHnswAlignment - 1) & ~(kHnswAlignment - 1);
}

}  // namespace ann::core
