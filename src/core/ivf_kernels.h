// Batched inner products for inverted-file indexes: one vector against many rows stored one
// after another, as k-means, list assignment and list choice need them.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstddef>

namespace ann::core {

// out[j] = sum_i x[i] * rows[j * dim + i] for j < count. Loading x once for several rows
// makes this several times faster than one kernel call per row. Accumulates in float, as
// the pairwise kernels do. AVX2 + FMA when the CPU has them (chosen once), scalar otherwise.
void inner_products(const float *x, const float *rows, std::size_t count, std::size_t dim, float *out) noexcept;

}  // namespace ann::core
