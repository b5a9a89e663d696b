// AVX-512F kernels: sixteen floats per instruction, with the tail done by one masked load.
#include "core/distance.h"

#if defined(__x86_64__) || defined(__i386__)

// GCC 12.2 warns that the intrinsics' deliberately undefined placeholder vectors are used
// uninitialised (GCC bug 105593, fixed in 12.3); silence that inside the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace ann::core {
namespace {

// Per-function target for the same reason as in distance_avx2.cpp: no -mavx512f on the file,
// so nothing this file instantiates can leak AVX-512 code to callers on older CPUs.
#define ANN_AVX512 __attribute__((target("avx512f")))

constexpr std::size_t kLanes = 16;
// Same latency argument as for AVX2: four independent FMA chains keep the loads the limit.
constexpr std::size_t kUnrolledStep = 4 * kLanes;

// Lanes beyond the mask load as zero without touching memory, so the tail can end a page.
ANN_AVX512 inline __mmask16 tail_mask(std::size_t remainder) noexcept {
    return static_cast<__mmask16>((1u << remainder) - 1u);
}

ANN_AVX512 inline __m512 load(const float *p) noexcept { return _mm512_loadu_ps(p); }

ANN_AVX512 inline __m512 load_tail(const float *p, __mmask16 mask) noexcept {
    return _mm512_maskz_loadu_ps(mask, p);
}

ANN_AVX512 inline float sum_of(__m512 acc0, __m512 acc1, __m512 acc2, __m512 acc3) noexcept {
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

ANN_AVX512 inline __m512 load_half(const Half *p) noexcept {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}

// The second vector of a kernel: a float row, or a half row. A half row is padded to a
// multiple of eight, so a tail of eight halves or fewer is loaded as eight, a longer one as
// sixteen; the padding is zero and the first vector's lanes past n are masked to zero, so
// no term of any sum changes.
ANN_AVX512 inline __m512 load(const Half *p) noexcept { return load_half(p); }
ANN_AVX512 inline __m512 load_tail(const Half *p, __mmask16 mask) noexcept {
    if ((mask >> 8) != 0) return load_half(p);
    return _mm512_cvtph_ps(
        _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
}

template <typename B>
ANN_AVX512 float l2_squared_avx512(const float *a, const B *b, std::size_t n) noexcept {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        const __m512 d0 = _mm512_sub_ps(load(a + i), load(b + i));
        const __m512 d1 = _mm512_sub_ps(load(a + i + 16), load(b + i + 16));
        const __m512 d2 = _mm512_sub_ps(load(a + i + 32), load(b + i + 32));
        const __m512 d3 = _mm512_sub_ps(load(a + i + 48), load(b + i + 48));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        acc2 = _mm512_fmadd_ps(d2, d2, acc2);
        acc3 = _mm512_fmadd_ps(d3, d3, acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        const __m512 d = _mm512_sub_ps(load(a + i), load(b + i));
        acc0 = _mm512_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __mmask16 mask = tail_mask(n - i);
        const __m512 d = _mm512_sub_ps(load_tail(a + i, mask), load_tail(b + i, mask));
        acc1 = _mm512_fmadd_ps(d, d, acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

template <typename B>
ANN_AVX512 float inner_product_avx512(const float *a, const B *b, std::size_t n) noexcept {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        acc0 = _mm512_fmadd_ps(load(a + i), load(b + i), acc0);
        acc1 = _mm512_fmadd_ps(load(a + i + 16), load(b + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(load(a + i + 32), load(b + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(load(a + i + 48), load(b + i + 48), acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        acc0 = _mm512_fmadd_ps(load(a + i), load(b + i), acc0);
    }
    if (i < n) {
        const __mmask16 mask = tail_mask(n - i);
        acc1 = _mm512_fmadd_ps(load_tail(a + i, mask), load_tail(b + i, mask), acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

ANN_AVX512 inline __m512 absolute_difference(__m512 x, __m512 y) noexcept {
    return _mm512_abs_ps(_mm512_sub_ps(x, y));
}

template <typename B>
ANN_AVX512 float l1_avx512(const float *a, const B *b, std::size_t n) noexcept {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        acc0 = _mm512_add_ps(acc0, absolute_difference(load(a + i), load(b + i)));
        acc1 = _mm512_add_ps(acc1, absolute_difference(load(a + i + 16), load(b + i + 16)));
        acc2 = _mm512_add_ps(acc2, absolute_difference(load(a + i + 32), load(b + i + 32)));
        acc3 = _mm512_add_ps(acc3, absolute_difference(load(a + i + 48), load(b + i + 48)));
    }
    for (; i + kLanes <= n; i += kLanes) {
        acc0 = _mm512_add_ps(acc0, absolute_difference(load(a + i), load(b + i)));
    }
    if (i < n) {
        const __mmask16 mask = tail_mask(n - i);
        acc1 = _mm512_add_ps(acc1,
                             absolute_difference(load_tail(a + i, mask), load_tail(b + i, mask)));
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

// Three FMAs per pair of loads make FMA throughput the limit, as in the AVX2 version.
struct CosineAccumulators {
    __m512 dot, norm_a, norm_b;
};

ANN_AVX512 inline void accumulate(CosineAccumulators &acc, __m512 x, __m512 y) noexcept {
    acc.dot = _mm512_fmadd_ps(x, y, acc.dot);
    acc.norm_a = _mm512_fmadd_ps(x, x, acc.norm_a);
    acc.norm_b = _mm512_fmadd_ps(y, y, acc.norm_b);
}

ANN_AVX512 CosineParts cosine_parts_avx512(const float *a, const float *b,
                                           std::size_t n) noexcept {
    const __m512 zero = _mm512_setzero_ps();
    CosineAccumulators acc0{zero, zero, zero}, acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        accumulate(acc0, load(a + i), load(b + i));
        accumulate(acc1, load(a + i + 16), load(b + i + 16));
        accumulate(acc2, load(a + i + 32), load(b + i + 32));
        accumulate(acc3, load(a + i + 48), load(b + i + 48));
    }
    for (; i + kLanes <= n; i += kLanes) accumulate(acc0, load(a + i), load(b + i));
    if (i < n) {
        const __mmask16 mask = tail_mask(n - i);
        accumulate(acc1, load_tail(a + i, mask), load_tail(b + i, mask));
    }
    return {sum_of(acc0.dot, acc1.dot, acc2.dot, acc3.dot),
            sum_of(acc0.norm_a, acc1.norm_a, acc2.norm_a, acc3.norm_a),
            sum_of(acc0.norm_b, acc1.norm_b, acc2.norm_b, acc3.norm_b)};
}

ANN_AVX512 float norm_squared_avx512(const float *a, std::size_t n) noexcept {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    std::size_t i = 0;
    for (; i + kUnrolledStep <= n; i += kUnrolledStep) {
        const __m512 a0 = load(a + i), a1 = load(a + i + 16);
        const __m512 a2 = load(a + i + 32), a3 = load(a + i + 48);
        acc0 = _mm512_fmadd_ps(a0, a0, acc0);
        acc1 = _mm512_fmadd_ps(a1, a1, acc1);
        acc2 = _mm512_fmadd_ps(a2, a2, acc2);
        acc3 = _mm512_fmadd_ps(a3, a3, acc3);
    }
    for (; i + kLanes <= n; i += kLanes) {
        const __m512 a0 = load(a + i);
        acc0 = _mm512_fmadd_ps(a0, a0, acc0);
    }
    if (i < n) {
        const __m512 a1 = load_tail(a + i, tail_mask(n - i));
        acc1 = _mm512_fmadd_ps(a1, a1, acc1);
    }
    return sum_of(acc0, acc1, acc2, acc3);
}

ANN_AVX512 void encode_half_avx512(const float *a, Half *out, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i),
                            _mm512_cvtps_ph(load(a + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; ++i) out[i] = float_to_half(a[i]);
}

#undef ANN_AVX512

constexpr DistanceKernels kAvx512Kernels{"avx512",
                                         l2_squared_avx512<float>,
                                         inner_product_avx512<float>,
                                         l1_avx512<float>,
                                         cosine_parts_avx512,
                                         norm_squared_avx512,
                                         l2_squared_avx512<Half>,
                                         inner_product_avx512<Half>,
                                         l1_avx512<Half>,
                                         encode_half_avx512};

// libgcc reports AVX-512F only once xgetbv shows the OS saves the opmask and all ZMM state.
bool cpu_runs_avx512f() noexcept {
    __builtin_cpu_init();  // the first call may come from a static initialiser
    return __builtin_cpu_supports("avx512f");
}

}  // namespace

const DistanceKernels *avx512_kernels() noexcept {
    static const bool supported = cpu_runs_avx512f();
    return supported ? &kAvx512Kernels : nullptr;
}

}  // namespace ann::core

#else  // not x86: these intrinsics do not exist

namespace ann::core {
const DistanceKernels *avx512_kernels() noexcept { return nullptr; }
}  // namespace ann::core

#endif
