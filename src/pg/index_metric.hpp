// Which distance an index ranks by, read from its operator class, and the core kernel that
// computes it. Shared by the hnsw and ivfflat access methods.
#pragma once

#include "pg/postgres.hpp"

#include "core/distance.h"

extern "C" {
#include "utils/rel.h"
}

namespace ann::pg {

// The order the index keeps: every metric is "smaller is nearer".
enum class IndexMetric : uint8 {
    l2_squared = 1,     // vector_l2_ops: ranks like <->
    inner_product = 2,  // vector_ip_ops: negative inner product, ranks like <#>
    cosine = 3,         // vector_cosine_ops: vectors normalised on the way in, then inner product
    l1 = 4,             // vector_l1_ops: ranks like <+>
};

// Reads support function 1 (the distance) and 2 (normalisation, cosine only) of the index's
// operator class. Errors if the opclass uses a distance function ann does not know.
IndexMetric index_metric(Relation index);

// The kernel computing the metric's internal distance (cosine: on normalised vectors).
inline float metric_distance(IndexMetric metric, const float *a, const float *b, std::size_t n)
{
    const core::DistanceKernels &k = core::kernels();
    switch (metric) {
        case IndexMetric::l2_squared:
            return k.l2_squared(a, b, n);
        case IndexMetric::l1:
            return k.l1(a, b, n);
        case IndexMetric::inner_product:
        case IndexMetric::cosine:
            return -k.inner_product(a, b, n);
    }
    pg_unreachable();
}

// metric_distance with b's half row (core/half.h) in place of b.
inline float metric_half_distance(IndexMetric metric, const float *a, const core::Half *b, std::size_t n)
{
    const core::DistanceKernels &k = core::kernels();
    switch (metric) {
        case IndexMetric::l2_squared:
            return k.l2_squared_half(a, b, n);
        case IndexMetric::l1:
            return k.l1_half(a, b, n);
        case IndexMetric::inner_product:
        case IndexMetric::cosine:
            return -k.inner_product_half(a, b, n);
    }
    pg_unreachable();
}

// The internal distance that no vector within `limit` of the metric's ordering operator (<->,
// <#>, <=>, <+>) exceeds, for stopping a search where nothing nearer is left. It errs on the
// far side by a little (1e-4 relative, 1e-5 absolute): the kernels round in float, the
// operators in double, and a row the operator admits must not be cut off. NaN, which every
// distance is below, gives infinity; so does no limit at all.
float metric_distance_limit(IndexMetric metric, double limit);

// Scales v to unit length in place for the cosine metric; false (and v untouched) for a zero
// vector, which a cosine index cannot rank and so does not store.
bool normalize_for_metric(IndexMetric metric, float *v, int dim);

}  // namespace ann::pg
