#include "core/ivf_kernels.h"

#include "core/distance.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ann::core {

namespace {

void inner_products_scalar(const float *x, const float *rows, std::size_t count, std::size_t dim,
                           float *out) noexcept
{
    for (std::size_t j = 0; j < count; ++j) {
        const float *row = rows + j * dim;
        float sum = 0.0f;
        for (std::size_t i = 0; i < dim; ++i)
            sum += x[i] * row[i];
        out[j] = sum;
    }
}

#if defined(__x86_64__) || defined(__i386__)

#define ANN_IVF_AVX2 __attribute__((target("avx2,fma")))

// Adds the lanes in the order the four-row blocks below do, ((0+1)+(2+3))+((4+5)+(6+7)): a
// row's product must not depend on whether it falls in a block or in the tail, since a scan
// that passes over the same lists twice tells rows apart by their exact distances.
ANN_IVF_AVX2 inline float horizontal_sum(__m256 v) noexcept
{
    __m256 pairs = _mm256_hadd_ps(v, v);
    pairs = _mm256_hadd_ps(pairs, pairs);
    return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1)));
}

// Masked-off lanes load as zero and cannot fault, so the tail of a dimension not divisible by
// 8 is one more masked step rather than a scalar loop.
alignas(64) constexpr int kTailMaskWindow[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// Four rows per pass: each 8-float slice of x is loaded once for four FMAs.
ANN_IVF_AVX2 void inner_products_avx2(const float *x, const float *rows, std::size_t count, std::size_t dim,
                                      float *out) noexcept
{
    const std::size_t body = dim & ~std::size_t(7);
    const std::size_t tail = dim - body;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(kTailMaskWindow + 8 - tail));
    const __m256 x_tail = _mm256_maskload_ps(x + body, mask);
    std::size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const float *r0 = rows + j * dim;
        const float *r1 = r0 + dim;
        const float *r2 = r1 + dim;
        const float *r3 = r2 + dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (std::size_t i = 0; i < body; i += 8) {
            const __m256 xv = _mm256_loadu_ps(x + i);
            a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r0 + i), a0);
            a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r1 + i), a1);
            a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r2 + i), a2);
            a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r3 + i), a3);
        }
        if (tail != 0) {
            a0 = _mm256_fmadd_ps(x_tail, _mm256_maskload_ps(r0 + body, mask), a0);
            a1 = _mm256_fmadd_ps(x_tail, _mm256_maskload_ps(r1 + body, mask), a1);
            a2 = _mm256_fmadd_ps(x_tail, _mm256_maskload_ps(r2 + body, mask), a2);
            a3 = _mm256_fmadd_ps(x_tail, _mm256_maskload_ps(r3 + body, mask), a3);
        }
        // Four horizontal sums at once: pairwise adds leave lane sums of rows 0..3 in one vector.
        const __m256 h01 = _mm256_hadd_ps(a0, a1);
        const __m256 h23 = _mm256_hadd_ps(a2, a3);
        const __m256 h = _mm256_hadd_ps(h01, h23);
        _mm_storeu_ps(out + j, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
    for (; j < count; ++j) {
        const float *row = rows + j * dim;
        __m256 acc = _mm256_setzero_ps();
        for (std::size_t i = 0; i < body; i += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(row + i), acc);
        if (tail != 0)
            acc = _mm256_fmadd_ps(x_tail, _mm256_maskload_ps(row + body, mask), acc);
        out[j] = horizontal_sum(acc);
    }
}

#endif

using InnerProducts = void (*)(const float *, const float *, std::size_t, std::size_t, float *) noexcept;

InnerProducts choose() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    // The distance kernels already probed the CPU: their AVX2 variant exists only with AVX2+FMA.
    if (avx2_kernels() != nullptr)
        return inner_products_avx2;
#endif
    return inner_products_scalar;
}

}  // namespace

void inner_products(const float *x, const float *rows, std::size_t count, std::size_t dim, float *out) noexcept
{
    static const InnerProducts chosen = choose();
    chosen(x, rows, count, dim, out);
}

}  // namespace ann::core
