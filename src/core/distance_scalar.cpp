// Portable scalar kernels: the fallback on CPUs without AVX2 and the baseline the SIMD
// variants are measured and tested against.
#include "core/distance.h"

#include <cmath>

namespace ann::core {
namespace {

// -O2 lets GCC vectorise these loops (the four independent accumulators are an invitation to
// SLP-pack them into one SSE register). That would make the "scalar" variant secretly SIMD:
// its benchmark figures would no longer show what the intrinsics buy, and its results would
// no longer be an independent cross-check of the SIMD code in the tests. So keep it scalar.
#define ANN_HONEST_SCALAR __attribute__((optimize("no-tree-vectorize")))

// Four accumulators, stepping four elements at a time, break the dependency on a single
// running sum, whose add latency would otherwise bound the loop rather than the loads.
constexpr std::size_t kStep = 4;

// The second vector's values as floats: a float row as it is, a half row widened.
inline float value(const float *b, std::size_t i) noexcept { return b[i]; }
inline float value(const Half *b, std::size_t i) noexcept { return half_to_float(b[i]); }

template <typename B>
ANN_HONEST_SCALAR float l2_squared_scalar(const float *a, const B *b, std::size_t n) noexcept {
    float sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    std::size_t i = 0;
    for (; i + kStep <= n; i += kStep) {
        const float d0 = a[i] - value(b, i), d1 = a[i + 1] - value(b, i + 1);
        const float d2 = a[i + 2] - value(b, i + 2), d3 = a[i + 3] - value(b, i + 3);
        sum0 += d0 * d0;
        sum1 += d1 * d1;
        sum2 += d2 * d2;
        sum3 += d3 * d3;
    }
    for (; i < n; ++i) {
        const float d = a[i] - value(b, i);
        sum0 += d * d;
    }
    return (sum0 + sum1) + (sum2 + sum3);
}

template <typename B>
ANN_HONEST_SCALAR float inner_product_scalar(const float *a, const B *b, std::size_t n) noexcept {
    float sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    std::size_t i = 0;
    for (; i + kStep <= n; i += kStep) {
        sum0 += a[i] * value(b, i);
        sum1 += a[i + 1] * value(b, i + 1);
        sum2 += a[i + 2] * value(b, i + 2);
        sum3 += a[i + 3] * value(b, i + 3);
    }
    for (; i < n; ++i) sum0 += a[i] * value(b, i);
    return (sum0 + sum1) + (sum2 + sum3);
}

template <typename B>
ANN_HONEST_SCALAR float l1_scalar(const float *a, const B *b, std::size_t n) noexcept {
    float sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    std::size_t i = 0;
    for (; i + kStep <= n; i += kStep) {
        sum0 += std::fabs(a[i] - value(b, i));
        sum1 += std::fabs(a[i + 1] - value(b, i + 1));
        sum2 += std::fabs(a[i + 2] - value(b, i + 2));
        sum3 += std::fabs(a[i + 3] - value(b, i + 3));
    }
    for (; i < n; ++i) sum0 += std::fabs(a[i] - value(b, i));
    return (sum0 + sum1) + (sum2 + sum3);
}

// Three sums per element already give the adds enough independent work: two accumulators each.
ANN_HONEST_SCALAR CosineParts cosine_parts_scalar(const float *a, const float *b,
                                                  std::size_t n) noexcept {
    float dot0 = 0, dot1 = 0, norm_a0 = 0, norm_a1 = 0, norm_b0 = 0, norm_b1 = 0;
    std::size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        dot0 += a[i] * b[i];
        dot1 += a[i + 1] * b[i + 1];
        norm_a0 += a[i] * a[i];
        norm_a1 += a[i + 1] * a[i + 1];
        norm_b0 += b[i] * b[i];
        norm_b1 += b[i + 1] * b[i + 1];
    }
    if (i < n) {
        dot0 += a[i] * b[i];
        norm_a0 += a[i] * a[i];
        norm_b0 += b[i] * b[i];
    }
    return {dot0 + dot1, norm_a0 + norm_a1, norm_b0 + norm_b1};
}

ANN_HONEST_SCALAR float norm_squared_scalar(const float *a, std::size_t n) noexcept {
    float sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    std::size_t i = 0;
    for (; i + kStep <= n; i += kStep) {
        sum0 += a[i] * a[i];
        sum1 += a[i + 1] * a[i + 1];
        sum2 += a[i + 2] * a[i + 2];
        sum3 += a[i + 3] * a[i + 3];
    }
    for (; i < n; ++i) sum0 += a[i] * a[i];
    return (sum0 + sum1) + (sum2 + sum3);
}

ANN_HONEST_SCALAR void encode_half_scalar(const float *a, Half *out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = float_to_half(a[i]);
}

#undef ANN_HONEST_SCALAR

constexpr DistanceKernels kScalarKernels{"scalar",
                                         l2_squared_scalar<float>,
                                         inner_product_scalar<float>,
                                         l1_scalar<float>,
                                         cosine_parts_scalar,
                                         norm_squared_scalar,
                                         l2_squared_scalar<Half>,
                                         inner_product_scalar<Half>,
                                         l1_scalar<Half>,
                                         encode_half_scalar};

}  // namespace

const DistanceKernels &scalar_kernels() noexcept { return kScalarKernels; }

}  // namespace ann::core
