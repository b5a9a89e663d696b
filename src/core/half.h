// IEEE binary16 copies of vectors, for ranking by half the memory traffic: a graph search
// waits on loading vectors, not on arithmetic. Pure C++: no Postgres header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ann::core {

using Half = std::uint16_t;

// A half row is padded with zeros to a multiple of this many values, so that the SIMD
// kernels can load its tail whole.
constexpr std::size_t kHalfRowAlignment = 8;

constexpr std::size_t half_row_length(std::size_t n) noexcept
{
    return (n + kHalfRowAlignment - 1) / kHalfRowAlignment * kHalfRowAlignment;
}

// Round to nearest, ties to even, as the F16C and AVX-512 conversions do; overflow gives
// infinity. Every variant's encoder gives these bits.
inline Half float_to_half(float value) noexcept
{
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    const auto sign = static_cast<Half>((bits >> 16) & 0x8000u);
    bits &= 0x7FFFFFFFu;
    if (bits >= 0x7F800000u)  // infinity or NaN
        return static_cast<Half>(sign | (bits > 0x7F800000u ? 0x7E00u : 0x7C00u));
    if (bits >= 0x477FF000u)  // 65520 and above round past the largest half
        return static_cast<Half>(sign | 0x7C00u);
    if (bits < 0x38800000u) {
        // Below the smallest normal half: adding 0.5 leaves the value, rounded to the
        // subnormal half spacing (2^-24), in the low bits of the sum's mantissa.
        float magnitude;
        std::memcpy(&magnitude, &bits, sizeof magnitude);
        const float sum = magnitude + 0.5f;
        std::uint32_t sum_bits;
        std::memcpy(&sum_bits, &sum, sizeof sum_bits);
        return static_cast<Half>(sign | (sum_bits - 0x3F000000u));
    }
    // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to even.
    const std::uint32_t odd = (bits >> 13) & 1u;
    return static_cast<Half>(sign | ((bits + 0xC8000FFFu + odd) >> 13));
}

inline float half_to_float(Half half) noexcept
{
    const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
    const std::uint32_t magnitude = half & 0x7FFFu;
    std::uint32_t bits;
    if (magnitude >= 0x7C00u) {
        bits = sign | 0x7F800000u | ((magnitude & 0x3FFu) << 13);
    } else if (magnitude >= 0x0400u) {
        bits = sign | ((magnitude << 13) + 0x38000000u);
    } else {
        const float subnormal = static_cast<float>(magnitude) * (1.0f / 16777216.0f);
        std::memcpy(&bits, &subnormal, sizeof bits);
        bits |= sign;
    }
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Writes the half row of `vector` (n values, then zeros to half_row_length(n)). False, with
// `out` undefined, when halves would rank it poorly: a value beyond the half range, or all
// values so small that their halves are subnormal and coarse. A zero vector is kept.
bool encode_half_row(const float *vector, std::size_t n, Half *out) noexcept;

}  // namespace ann::core
