// AVX2 + FMA kernels: eight floats per instruction, several accumulators per sum. The half
// kernels widen eight halves at a time with F16C, which every AVX2 CPU has.
#include "core/distance.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <cstdint>

namespace ann::core {
namespace {

// Per-function target rather than -mavx2 on this file: with a per-file flag, any inline or
// template function this file instantiates could be emitted with AVX instructions and then
// chosen by the linker for callers on CPUs without AVX.
#define ANN_AVX2 __attribute__((target("avx2,fma,f16c")))

constexpr std::size_t kLanes = 8;
// An FMA has a latency of four or five cycles and the two load ports feed about one per
// cycle, so four independent accumulators keep the loop bound by loads, not by the add chain.
constexpr std::size_t kUnrolledStep = 4 * kLanes;

// The window starting at kLanes - remainder selects `remainder` leading lanes. Masked-off
// lanes load as zero and cannot fault, so a tail adds nothing to any sum and may end a page.
alignas(64) constexpr std::int32_t kTailMaskWindow[2 * kLanes] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                                  0,  0,  0,  0,  0,  0,  0,  0};

ANN_AVX2 inline __m256i tail_mask(std::size_t remainder) noexcept {
    return _mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(kTailMaskWindow + kLanes - remainder));
}

ANN_AVX2 inline __m256 load(const float *p) noexcept { return _mm256_loadu_ps(p); }

ANN_AVX2 inline __m256 load_tail(const float *p, __m256i mask) noexcept {
    return _mm256_maskload_ps(p, mask);
}

// |x - y| by clearing the sign bit of the difference; -0.0f is exactly the sign bit.
ANN_AVX2 inline __m256 absolute_difference(__m256 x, __m256 y) noexcept {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(x, y));
}

ANN_AVX2 inline float horizontal_sum(__m256 v) noexcept {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

ANN_AVX2 inline float sum_of(__m256 acc0, __m256 acc1, __m256 acc2, __m256 acc3) noexcept {
    return horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

// Eight halves of a row; the row's zero padding makes a whole load safe at its tail.
ANN_AVX2 inline __m256 load_half(const Half *p) noexcept {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

// The second vector of a kernel: a float row, whose tail is loaded masked, or a half row.
ANN_AVX2 inline __m256 load(const Half *p) noexcept { return load_half(p); }
ANN_AVX2 inline __m256 load_tail(const Half *p, __m256i) noexcept { return load_half(p); }

template <typename B>
ANN_AVX2 float l2_squared_avx2(const float *a, const B *b, std::size_t n) noexcept {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        const __m256 d0 = _mm256_sub_ps(load(a + i), load(b + i));
        const __m256 d1 = _mm256_sub_ps(load(a + i + 8), load(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(load(a + i + 16), load(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(load(a + i + 24), load(b + i + 24));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        acc2 = _mm256_fmadd_ps(d2, d2, acc2);
        acc3 = _mm256_fmadd_ps(d3, d3, acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        const __m256 d = _mm256_sub_ps(load(a + i), load(b + i));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        const __m256 d = _mm256_sub_ps(load_tail(a + i, mask), load_tail(b + i, mask));
        acc1 = _mm256_fmadd_ps(d, d, acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

template <typename B>
ANN_AVX2 float inner_product_avx2(const float *a, const B *b, std::size_t n) noexcept {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        acc0 = _mm256_fmadd_ps(load(a + i), load(b + i), acc0);
        acc1 = _mm256_fmadd_ps(load(a + i + 8), load(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load(a + i + 16), load(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load(a + i + 24), load(b + i + 24), acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        acc0 = _mm256_fmadd_ps(load(a + i), load(b + i), acc0);
    }
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        acc1 = _mm256_fmadd_ps(load_tail(a + i, mask), load_tail(b + i, mask), acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

template <typename B>
ANN_AVX2 float l1_avx2(const float *a, const B *b, std::size_t n) noexcept {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        acc0 = _mm256_add_ps(acc0, absolute_difference(load(a + i), load(b + i)));
        acc1 = _mm256_add_ps(acc1, absolute_difference(load(a + i + 8), load(b + i + 8)));
        acc2 = _mm256_add_ps(acc2, absolute_difference(load(a + i + 16), load(b + i + 16)));
        acc3 = _mm256_add_ps(acc3, absolute_difference(load(a + i + 24), load(b + i + 24)));
    }
    for (; i + kLanes <= n; i += kLanes) {
        acc0 = _mm256_add_ps(acc0, absolute_difference(load(a + i), load(b + i)));
    }
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        acc1 = _mm256_add_ps(acc1,
                             absolute_difference(load_tail(a + i, mask), load_tail(b + i, mask)));
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

// One pair of loads feeds three FMAs here, so FMA throughput rather than loads is the limit;
// four sets of accumulators (twelve chains) keep both FMA units busy despite their latency.
struct CosineAccumulators {
    __m256 dot, norm_a, norm_b;
};

ANN_AVX2 inline void accumulate(CosineAccumulators &acc, __m256 x, __m256 y) noexcept {
    acc.dot = _mm256_fmadd_ps(x, y, acc.dot);
    acc.norm_a = _mm256_fmadd_ps(x, x, acc.norm_a);
    acc.norm_b = _mm256_fmadd_ps(y, y, acc.norm_b);
}

ANN_AVX2 CosineParts cosine_parts_avx2(const float *a, const float *b, std::size_t n) noexcept {
    const __m256 zero = _mm256_setzero_ps();
    CosineAccumulators acc0{zero, zero, zero}, acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        accumulate(acc0, load(a + i), load(b + i));
        accumulate(acc1, load(a + i + 8), load(b + i + 8));
        accumulate(acc2, load(a + i + 16), load(b + i + 16));
        accumulate(acc3, load(a + i + 24), load(b + i + 24));
    }
    for (; i + kLanes <= n; i += kLanes) accumulate(acc0, load(a + i), load(b + i));
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        accumulate(acc1, load_tail(a + i, mask), load_tail(b + i, mask));
    }
    return {sum_of(acc0.dot, acc1.dot, acc2.dot, acc3.dot),
            sum_of(acc0.norm_a, acc1.norm_a, acc2.norm_a, acc3.norm_a),
            sum_of(acc0.norm_b, acc1.norm_b, acc2.norm_b, acc3.norm_b)};
}

ANN_AVX2 float norm_squared_avx2(const float *a, std::size_t n) noexcept {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        const __m256 a0 = load(a + i), a1 = load(a + i + 8);
        const __m256 a2 = load(a + i + 16), a3 = load(a + i + 24);
        acc0 = _mm256_fmadd_ps(a0, a0, acc0);
        acc1 = _mm256_fmadd_ps(a1, a1, acc1);
        acc2 = _mm256_fmadd_ps(a2, a2, acc2);
        acc3 = _mm256_fmadd_ps(a3, a3, acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        const __m256 a0 = load(a + i);
        acc0 = _mm256_fmadd_ps(a0, a0, acc0);
    }
    if (i < n) {
        const __m256 a1 = load_tail(a + i, tail_mask(n - i));
        acc1 = _mm256_fmadd_ps(a1, a1, acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

ANN_AVX2 void encode_half_avx2(const float *a, Half *out, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i),
                         _mm256_cvtps_ph(load(a + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; ++i) out[i] = float_to_half(a[i]);
}

#undef ANN_AVX2

constexpr DistanceKernels kAvx2Kernels{"avx2",
                                       l2_squared_avx2<float>,
                                       inner_product_avx2<float>,
                                       l1_avx2<float>,
                                       cosine_parts_avx2,
                                       norm_squared_avx2,
                                       l2_squared_avx2<Half>,
                                       inner_product_avx2<Half>,
                                       l1_avx2<Half>,
                                       encode_half_avx2};

// libgcc reports AVX2 and FMA only once xgetbv shows the OS saves the YMM registers, so this
// also covers kernels that would boot without AVX state enabled.
bool cpu_runs_avx2_fma_f16c() noexcept {
    __builtin_cpu_init();  // the first call may come from a static initialiser
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}

}  // namespace

const DistanceKernels *avx2_kernels() noexcept {
    static const bool supported = cpu_runs_avx2_fma_f16c();
    return supported ? &kAvx2Kernels : nullptr;
}

}  // namespace ann::core

#else  // not x86: these intrinsics do not exist

namespace ann::core {
const DistanceKernels *avx2_kernels() noexcept { return nullptr; }
}  // namespace ann::core

#endif
