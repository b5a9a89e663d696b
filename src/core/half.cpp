#include "core/half.h"

#include <algorithm>
#include <cmath>

#include "core/distance.h"

namespace ann::core {

namespace {

// A vector whose largest value is below this has halves coarser than a thousandth of it in
// places (the subnormal spacing is 2^-24).
constexpr float kSmallestFaithfulMaximum = 1.0f / 16384.0f;  // 2^-14
constexpr float kLargestHalf = 65504.0f;

}  // namespace

bool encode_half_row(const float *vector, std::size_t n, Half *out) noexcept
{
    float largest = 0.0f;
    for (std::size_t i = 0; i < n; i++)
        largest = std::max(largest, std::fabs(vector[i]));  // no NaN: vectors hold none
    if (largest > kLargestHalf || (largest > 0.0f && largest < kSmallestFaithfulMaximum))
        return false;
    kernels().encode_half(vector, out, n);
    for (std::size_t i = n; i < half_row_length(n); i++)
        out[i] = 0;
    return true;
}

}  // namespace ann::core
