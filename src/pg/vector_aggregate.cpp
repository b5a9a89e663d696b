// avg(vector): transition state is a double precision[] {n, sum_1, ..., sum_dim}, starting
// as '{0}' (no dimension known yet). Sums are kept in double so that the order in which
// parallel workers combine partial states barely matters. sum(vector) needs no code of its
// own: vector_add is both its transition and its combine function.
#include "pg/guard.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

using ann::pg::Vector;

namespace {

// The state's values (count first), after checking it is what the aggregate built.
float8 *state_values(ArrayType *state, const char *caller)
{
    if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1 || ARR_HASNULL(state) ||
        ARR_ELEMTYPE(state) != FLOAT8OID)
        elog(ERROR, "%s: expected state array", caller);
    return reinterpret_cast<float8 *>(ARR_DATA_PTR(state));
}

// Number of vector dimensions the state holds (0 before the first vector).
inline int state_dim(ArrayType *state)
{
    return ARR_DIMS(state)[0] - 1;
}

// Builds the state array from n and dim sums; sums may be null when dim is 0.
ArrayType *make_state(float8 n, const float8 *sums, int dim)
{
    Datum *datums = static_cast<Datum *>(palloc(sizeof(Datum) * static_cast<Size>(dim + 1)));
    datums[0] = Float8GetDatum(n);
    for (int i = 0; i < dim; i++)
        datums[i + 1] = Float8GetDatum(sums[i]);
    ArrayType *result = construct_array(datums, dim + 1, FLOAT8OID, sizeof(float8),
                                        FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    pfree(datums);
    return result;
}

}  // namespace

ANN_FUNCTION(vector_accum)
{
    ArrayType *state = PG_GETARG_ARRAYTYPE_P(0);
    const Vector *value = ann::pg::vector_arg(fcinfo, 1);
    const float8 *values = state_values(state, "vector_accum");
    int dim = state_dim(state);
    const bool first = dim == 0;

    if (first)
        dim = value->dim;
    else
        ann::pg::check_expected_dim(dim, value->dim);

    float8 *sums = static_cast<float8 *>(palloc(sizeof(float8) * static_cast<Size>(dim)));
    for (int i = 0; i < dim; i++) {
        const double sum = first ? static_cast<double>(value->x[i])
                                 : values[i + 1] + static_cast<double>(value->x[i]);
        if (std::isinf(sum))
            ann::pg::report_overflow();
        sums[i] = sum;
    }
    ArrayType *result = make_state(values[0] + 1.0, sums, dim);
    pfree(sums);
    PG_RETURN_ARRAYTYPE_P(result);
}

ANN_FUNCTION(vector_combine)
{
    ArrayType *state1 = PG_GETARG_ARRAYTYPE_P(0);
    ArrayType *state2 = PG_GETARG_ARRAYTYPE_P(1);
    const float8 *values1 = state_values(state1, "vector_combine");
    const float8 *values2 = state_values(state2, "vector_combine");
    const int dim1 = state_dim(state1);
    const int dim2 = state_dim(state2);
    const float8 n = values1[0] + values2[0];

    if (dim1 == 0 && dim2 == 0)
        PG_RETURN_ARRAYTYPE_P(make_state(n, nullptr, 0));
    if (dim1 == 0 || dim2 == 0) {
        const float8 *values = dim1 == 0 ? values2 : values1;
        const int dim = dim1 == 0 ? dim2 : dim1;
        ann::pg::check_dim(dim);
        PG_RETURN_ARRAYTYPE_P(make_state(n, values + 1, dim));
    }

    ann::pg::check_dim(dim1);
    ann::pg::check_expected_dim(dim1, dim2);
    float8 *sums = static_cast<float8 *>(palloc(sizeof(float8) * static_cast<Size>(dim1)));
    for (int i = 0; i < dim1; i++) {
        const double sum = values1[i + 1] + values2[i + 1];
        if (std::isinf(sum))
            ann::pg::report_overflow();
        sums[i] = sum;
    }
    ArrayType *result = make_state(n, sums, dim1);
    pfree(sums);
    PG_RETURN_ARRAYTYPE_P(result);
}

ANN_FUNCTION(vector_avg)
{
    ArrayType *state = PG_GETARG_ARRAYTYPE_P(0);
    const float8 *values = state_values(state, "vector_avg");
    const float8 n = values[0];

    // The average of no rows is NULL.
    if (n == 0.0)
        PG_RETURN_NULL();

    const int dim = state_dim(state);
    ann::pg::check_dim(dim);
    Vector *result = ann::pg::vector_alloc(dim);
    for (int i = 0; i < dim; i++) {
        result->x[i] = static_cast<float>(values[i + 1] / n);
        ann::pg::check_element(result->x[i]);
    }
    PG_RETURN_POINTER(result);
}
