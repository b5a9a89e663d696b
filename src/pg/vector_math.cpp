// `vector` distances, norms and element-wise arithmetic.
//
// Distances go through the core kernels, which accumulate in float as pgvector does; SQL
// sees the float result widened to double (l2_distance takes the square root in double).
// Norms accumulate in double, as pgvector's vector_norm and l2_normalize do.
#include "core/distance.h"
#include "pg/guard.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "utils/varbit.h"
}

using ann::pg::Vector;

namespace {

inline const ann::core::DistanceKernels &kernels()
{
    return ann::core::kernels();
}

inline std::size_t count(const Vector *v)
{
    return static_cast<std::size_t>(v->dim);
}

// Sum of squares in double.
double norm_squared_double(const Vector *v)
{
    double sum = 0.0;
    for (int i = 0; i < v->dim; i++)
        sum += static_cast<double>(v->x[i]) * static_cast<double>(v->x[i]);
    return sum;
}

}  // namespace

// ---- distances ------------------------------------------------------------------------------

ANN_FUNCTION(l2_distance)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    const float squared = kernels().l2_squared(a->x, b->x, count(a));
    PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(squared)));
}

ANN_FUNCTION(vector_l2_squared_distance)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    PG_RETURN_FLOAT8(static_cast<double>(kernels().l2_squared(a->x, b->x, count(a))));
}

ANN_FUNCTION(inner_product)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    PG_RETURN_FLOAT8(static_cast<double>(kernels().inner_product(a->x, b->x, count(a))));
}

ANN_FUNCTION(vector_negative_inner_product)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    PG_RETURN_FLOAT8(-static_cast<double>(kernels().inner_product(a->x, b->x, count(a))));
}

// 1 - cos(a, b) in [0, 2]; NaN when either vector is zero (not an error, as in pgvector).
ANN_FUNCTION(cosine_distance)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    const ann::core::CosineParts parts = kernels().cosine_parts(a->x, b->x, count(a));
    PG_RETURN_FLOAT8(ann::core::cosine_distance_from_parts(parts));
}

// Angular distance acos(a . b) / pi for unit vectors: ivfflat's k-means support function
// for inner product and cosine (it satisfies the triangle inequality).
ANN_FUNCTION(vector_spherical_distance)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    double dot = static_cast<double>(kernels().inner_product(a->x, b->x, count(a)));
    // Rounding can push the product of unit vectors just outside acos's domain.
    if (dot > 1.0)
        dot = 1.0;
    else if (dot < -1.0)
        dot = -1.0;
    PG_RETURN_FLOAT8(std::acos(dot) / M_PI);
}

ANN_FUNCTION(l1_distance)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);
    PG_RETURN_FLOAT8(static_cast<double>(kernels().l1(a->x, b->x, count(a))));
}

// ---- single-vector functions ----------------------------------------------------------------

ANN_FUNCTION(vector_dims)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    PG_RETURN_INT32(a->dim);
}

ANN_FUNCTION(vector_norm)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    PG_RETURN_FLOAT8(std::sqrt(norm_squared_double(a)));
}

// a / |a|; the zero vector stays zero.
ANN_FUNCTION(l2_normalize)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    Vector *result = ann::pg::vector_alloc(a->dim);
    const double norm = std::sqrt(norm_squared_double(a));

    if (norm > 0.0) {
        for (int i = 0; i < a->dim; i++)
            result->x[i] = static_cast<float>(static_cast<double>(a->x[i]) / norm);
        for (int i = 0; i < a->dim; i++) {
            if (std::isinf(result->x[i]))
                ann::pg::report_overflow();
        }
    }
    PG_RETURN_POINTER(result);
}

// Bit i of the result is 1 when element i is positive (MSB first, like `bit` literals).
ANN_FUNCTION(binary_quantize)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Size size = VARBITTOTALLEN(a->dim);
    auto *result = static_cast<VarBit *>(palloc0(size));
    SET_VARSIZE(result, size);
    VARBITLEN(result) = a->dim;

    bits8 *bits = VARBITS(result);
    for (int i = 0; i < a->dim; i++) {
        if (a->x[i] > 0)
            bits[i / 8] |= static_cast<bits8>(0x80u >> (i % 8));
    }
    PG_RETURN_VARBIT_P(result);
}

// subvector(v, start, count): elements start .. start+count-1, 1-based. Like substring, a
// range reaching outside the vector is clipped to it; an empty result is an error.
ANN_FUNCTION(subvector)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    int32 start = PG_GETARG_INT32(1);
    const int32 length = PG_GETARG_INT32(2);

    if (length < 1)
        ann::pg::report_bad_dim(0);

    // One past the last element taken, clipped to the vector. Comparing against
    // dim - length (both positive, so no overflow) avoids overflowing start + length.
    const int32 end = start > a->dim - length ? a->dim + 1 : start + length;

    if (start < 1)
        start = 1;
    else if (start > a->dim)
        ann::pg::report_bad_dim(0);

    const int32 dim = end - start;
    ann::pg::check_dim(dim);

    Vector *result = ann::pg::vector_alloc(dim);
    memcpy(result->x, a->x + (start - 1), sizeof(float) * static_cast<Size>(dim));
    PG_RETURN_POINTER(result);
}

// ---- element-wise arithmetic ----------------------------------------------------------------

ANN_FUNCTION(vector_add)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);

    Vector *result = ann::pg::vector_alloc(a->dim);
    for (int i = 0; i < a->dim; i++)
        result->x[i] = a->x[i] + b->x[i];
    for (int i = 0; i < a->dim; i++) {
        if (std::isinf(result->x[i]))
            ann::pg::report_overflow();
    }
    PG_RETURN_POINTER(result);
}

ANN_FUNCTION(vector_sub)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);

    Vector *result = ann::pg::vector_alloc(a->dim);
    for (int i = 0; i < a->dim; i++)
        result->x[i] = a->x[i] - b->x[i];
    for (int i = 0; i < a->dim; i++) {
        if (std::isinf(result->x[i]))
            ann::pg::report_overflow();
    }
    PG_RETURN_POINTER(result);
}

// Element-wise product. A zero product of two non-zero elements is an underflow error, as
// float4 multiplication reports it.
ANN_FUNCTION(vector_mul)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    ann::pg::check_same_dims(a, b);

    Vector *result = ann::pg::vector_alloc(a->dim);
    for (int i = 0; i < a->dim; i++)
        result->x[i] = a->x[i] * b->x[i];
    for (int i = 0; i < a->dim; i++) {
        if (std::isinf(result->x[i]))
            ann::pg::report_overflow();
        if (result->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f)
            ann::pg::report_underflow();
    }
    PG_RETURN_POINTER(result);
}

ANN_FUNCTION(vector_concat)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    const int dim = a->dim + b->dim;
    ann::pg::check_dim(dim);

    Vector *result = ann::pg::vector_alloc(dim);
    memcpy(result->x, a->x, sizeof(float) * count(a));
    memcpy(result->x + a->dim, b->x, sizeof(float) * count(b));
    PG_RETURN_POINTER(result);
}
