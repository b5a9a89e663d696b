#include "core/distance.h"
#include <cmath>
namespace ann::core {
static float l2s(const float *a, const float *b, std::size_t n) noexcept { float s=0; for (std::size_t i=0;i<n;i++){float d=a[i]-b[i]; s+=d*d;} return s; }
static float ip(const float *a, const float *b, std::size_t n) noexcept { float s=0; for (std::size_t i=0;i<n;i++) s+=a[i]*b[i]; return s; }
static float l1(const float *a, const float *b, std::size_t n) noexcept { float s=0; for (std::size_t i=0;i<n;i++) s+=std::fabs(a[i]-b[i]); return s; }
static CosineParts cp(const float *a, const float *b, std::size_t n) noexcept { CosineParts p{0,0,0}; for (std::size_t i=0;i<n;i++){p.dot+=a[i]*b[i]; p.norm_a_squared+=a[i]*a[i]; p.norm_b_squared+=b[i]*b[i];} return p; }
static float ns(const float *a, std::size_t n) noexcept { float s=0; for (std::size_t i=0;i<n;i++) s+=a[i]*a[i]; return s; }
static const DistanceKernels scalar{"scalar", l2s, ip, l1, cp, ns};
const DistanceKernels &scalar_kernels() noexcept { return scalar; }
const DistanceKernels *avx2_kernels() noexcept { return nullptr; }
const DistanceKernels *avx512_kernels() noexcept { return nullptr; }
const DistanceKernels &kernels() noexcept { return scalar; }
double cosine_distance_from_parts(const CosineParts &p) noexcept {
    double sim = (double)p.dot / std::sqrt((double)p.norm_a_squared * (double)p.norm_b_squared);
    if (sim > 1) sim = 1; else if (sim < -1) sim = -1;
    return 1 - sim;
}
}
