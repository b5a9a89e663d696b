#include "pg/index_metric.hpp"

#include <cmath>
#include <limits>

extern "C" {
#include "access/genam.h"
#include "utils/lsyscache.h"
}

namespace ann::pg {

namespace {

constexpr uint16 kDistanceProc = 1;
constexpr uint16 kNormProc = 2;

}  // namespace

IndexMetric index_metric(Relation index)
{
    const Oid distance_proc = index_getprocid(index, 1, kDistanceProc);
    const char *name = OidIsValid(distance_proc) ? get_func_name(distance_proc) : nullptr;
    if (name != nullptr) {
        if (strcmp(name, "vector_l2_squared_distance") == 0)
            return IndexMetric::l2_squared;
        if (strcmp(name, "l1_distance") == 0)
            return IndexMetric::l1;
        if (strcmp(name, "vector_negative_inner_product") == 0)
            return OidIsValid(index_getprocid(index, 1, kNormProc)) ? IndexMetric::cosine
                                                                     : IndexMetric::inner_product;
    }
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("operator class of index \"%s\" uses an unsupported distance function %s",
                           RelationGetRelationName(index), name ? name : "(none)")));
    pg_unreachable();
}

bool normalize_for_metric(IndexMetric metric, float *v, int dim)
{
    if (metric != IndexMetric::cosine)
        return true;
    const double norm = std::sqrt(static_cast<double>(core::kernels().norm_squared(v, dim)));
    if (norm == 0.0)
        return false;
    for (int i = 0; i < dim; i++)
        v[i] = static_cast<float>(v[i] / norm);
    return true;
}

float metric_distance_limit(IndexMetric metric, double limit)
{
    if (std::isnan(limit))
        return std::numeric_limits<float>::infinity();
    double internal = limit;
    switch (metric) {
        case IndexMetric::l2_squared:
            // No distance is negative; squaring a negative limit would admit rows.
            internal = limit < 0 ? -std::numeric_limits<double>::infinity() : limit * limit;
            break;
        case IndexMetric::cosine:
            // <=> is 1 - cos; the index ranks by -cos of the normalised vectors.
            internal = limit - 1.0;
            break;
        case IndexMetric::inner_product:
        case IndexMetric::l1:
            break;
    }
    internal += 1e-4 * std::fabs(internal) + 1e-5;
    if (!(internal > -std::numeric_limits<float>::max()))
        return -std::numeric_limits<float>::infinity();
    if (internal >= std::numeric_limits<float>::max())
        return std::numeric_limits<float>::infinity();
    return static_cast<float>(internal);
}

}  // namespace ann::pg
