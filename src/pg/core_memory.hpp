// Memory for the C++ core from a Postgres memory context. Allocation failures come back as
// nullptr (MCXT_ALLOC_NO_OOM), so the core reports them as a status instead of an ereport
// longjmp through its frames.
#pragma once

#include "core/hnsw_memory.h"
#include "pg/postgres.hpp"

namespace ann::pg {

inline core::MemoryHooks palloc_hooks(MemoryContext context)
{
    return core::MemoryHooks{
        context,
        [](void *memory_context, std::size_t bytes) noexcept -> void * {
            return MemoryContextAllocExtended(static_cast<MemoryContext>(memory_context), bytes,
                                              MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
        },
        [](void *, void *memory) noexcept { pfree(memory); },
    };
}

}  // namespace ann::pg
