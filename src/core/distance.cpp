// Variant selection and the cosine arithmetic shared by every variant. The kernels themselves
// live in distance_scalar.cpp, distance_avx2.cpp and distance_avx512.cpp.
#include "core/distance.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ann::core {
namespace {

const DistanceKernels &fastest_supported_kernels() noexcept {
    if (const DistanceKernels *avx512 = avx512_kernels()) return *avx512;
    if (const DistanceKernels *avx2 = avx2_kernels()) return *avx2;
    return scalar_kernels();
}

}  // namespace

const DistanceKernels &kernels() noexcept {
    static const DistanceKernels &chosen = fastest_supported_kernels();
    return chosen;
}

double cosine_distance_from_parts(const CosineParts &parts) noexcept {
    // A zero vector has no direction. Testing the norms rather than relying on 0/0 also
    // catches vectors so small that their squared norm underflowed to zero.
    if (parts.norm_a_squared == 0.0f || parts.norm_b_squared == 0.0f) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    // In double, as pgvector does: the float product of two squared norms overflows easily.
    const double similarity =
        static_cast<double>(parts.dot) /
        std::sqrt(static_cast<double>(parts.norm_a_squared) *
                  static_cast<double>(parts.norm_b_squared));
    // Float rounding can push |similarity| slightly past 1; a distance must stay in [0, 2].
    return 1.0 - std::clamp(similarity, -1.0, 1.0);
}

}  // namespace ann::core
