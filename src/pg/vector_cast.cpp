// Casts: integer[] / real[] / double precision[] / numeric[] -> vector (assignment),
// vector -> real[] (implicit), and vector -> vector(n) (the typmod check).
#include "pg/guard.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

using ann::pg::Vector;

// vector(vector, typmod, explicit): applies a vector(n) typmod.
ANN_FUNCTION(vector)
{
    Vector *v = ann::pg::vector_arg(fcinfo, 0);
    ann::pg::check_expected_dim(PG_GETARG_INT32(1), v->dim);
    PG_RETURN_POINTER(v);
}

// array_to_vector(anyarray of int4/float4/float8/numeric, typmod, explicit).
ANN_FUNCTION(array_to_vector)
{
    ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
    const int32 typmod = PG_GETARG_INT32(1);
    const Oid element_type = ARR_ELEMTYPE(array);

    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("array must not contain nulls")));
    if (element_type != INT4OID && element_type != FLOAT4OID && element_type != FLOAT8OID &&
        element_type != NUMERICOID)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));

    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);

    Datum *elements = nullptr;
    int count = 0;
    deconstruct_array(array, element_type, typlen, typbyval, typalign, &elements, nullptr,
                      &count);

    ann::pg::check_dim(count);
    ann::pg::check_expected_dim(typmod, count);

    Vector *result = ann::pg::vector_alloc(count);
    switch (element_type) {
    case INT4OID:
        for (int i = 0; i < count; i++)
            result->x[i] = static_cast<float>(DatumGetInt32(elements[i]));
        break;
    case FLOAT4OID:
        for (int i = 0; i < count; i++)
            result->x[i] = DatumGetFloat4(elements[i]);
        break;
    case FLOAT8OID:
        // Out-of-range doubles become infinite here and are rejected below.
        for (int i = 0; i < count; i++)
            result->x[i] = static_cast<float>(DatumGetFloat8(elements[i]));
        break;
    default:  // NUMERICOID
        for (int i = 0; i < count; i++)
            result->x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elements[i]));
        break;
    }
    // By-reference elements point into the array: free only the Datum array itself.
    pfree(elements);

    for (int i = 0; i < count; i++)
        ann::pg::check_element(result->x[i]);
    PG_RETURN_POINTER(result);
}

// vector_to_float4(vector, typmod, explicit): vector -> real[].
ANN_FUNCTION(vector_to_float4)
{
    const Vector *v = ann::pg::vector_arg(fcinfo, 0);
    Datum *datums = static_cast<Datum *>(palloc(sizeof(Datum) * static_cast<Size>(v->dim)));
    for (int i = 0; i < v->dim; i++)
        datums[i] = Float4GetDatum(v->x[i]);
    ArrayType *result = construct_array(datums, v->dim, FLOAT4OID, sizeof(float4), true,
                                        TYPALIGN_INT);
    pfree(datums);
    PG_RETURN_POINTER(result);
}
