// The `vector` type: its on-disk layout and the small helpers shared by the type's SQL
// functions (src/pg/vector_*.cpp) and the index code.
//
// Layout, identical to pgvector's so that data, dumps and binary COPY move between the two:
//   varlena header (4 bytes, never touched directly: SET_VARSIZE / VARSIZE)
//   int16 dim      number of elements, 1..kVectorMaxDim
//   int16 unused   always 0 (rejected otherwise by binary input)
//   float4 x[dim]  finite values only (no NaN, no infinity)
// The type is declared STORAGE external: large vectors are moved out of line but never
// compressed, so distance computations read them without decompression.
#pragma once

#include "pg/postgres.hpp"

namespace ann::pg {

// Most elements a vector may have, in text, binary, arrays, concatenation and typmods.
constexpr int kVectorMaxDim = 16000;

struct Vector {
    int32 vl_len_;  // varlena header
    int16 dim;      // number of elements
    int16 unused;   // reserved, always 0
    float x[FLEXIBLE_ARRAY_MEMBER];
};

static_assert(offsetof(Vector, x) == 8, "vector header must be 8 bytes, as pgvector's");

// Bytes taken by a vector of `dim` elements, header included.
constexpr Size vector_size(int dim) noexcept
{
    return offsetof(Vector, x) + sizeof(float) * static_cast<Size>(dim);
}

// A zero-filled vector of `dim` elements in CurrentMemoryContext (palloc: may ereport).
// The caller has already checked 1 <= dim <= kVectorMaxDim.
inline Vector *vector_alloc(int dim)
{
    const Size size = vector_size(dim);
    auto *v = static_cast<Vector *>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = static_cast<int16>(dim);
    return v;
}

// A detoasted (and decompressed, if it ever was) vector from a Datum. May ereport.
inline Vector *datum_get_vector(Datum d)
{
    return reinterpret_cast<Vector *>(PG_DETOAST_DATUM(d));
}

// Argument n of a SQL-callable function, detoasted.
inline Vector *vector_arg(FunctionCallInfo fcinfo, int n)
{
    return datum_get_vector(PG_GETARG_DATUM(n));
}

// Error reports (each raises ERROR and never returns). Defined in vector_common.cpp; the
// messages and SQLSTATEs are pgvector's.
[[noreturn]] void report_bad_dim(int dim);                         // < 1 or > max
[[noreturn]] void report_unexpected_dim(int32 typmod, int dim);    // typmod mismatch
[[noreturn]] void report_bad_element(float value);                 // NaN or infinite
[[noreturn]] void report_different_dims(int a_dim, int b_dim);     // binary op mismatch
[[noreturn]] void report_overflow();                               // "value out of range: overflow"
[[noreturn]] void report_underflow();                              // "value out of range: underflow"

// 1 <= dim <= kVectorMaxDim, else ERROR.
inline void check_dim(int dim)
{
    if (dim < 1 || dim > kVectorMaxDim)
        report_bad_dim(dim);
}

// A typmod of -1 accepts any dimension; otherwise it must equal dim.
inline void check_expected_dim(int32 typmod, int dim)
{
    if (typmod != -1 && typmod != dim)
        report_unexpected_dim(typmod, dim);
}

// Elements must be finite.
inline void check_element(float value)
{
    if (!std::isfinite(value))
        report_bad_element(value);
}

// Binary operations need equal dimensions.
inline void check_same_dims(const Vector *a, const Vector *b)
{
    if (a->dim != b->dim)
        report_different_dims(a->dim, b->dim);
}

// Total order used by the btree opclass: element by element, then the shorter vector first
// (as Postgres orders arrays). Returns -1, 0 or 1.
inline int vector_compare(const Vector *a, const Vector *b) noexcept
{
    const int n = a->dim < b->dim ? a->dim : b->dim;
    for (int i = 0; i < n; i++) {
        if (a->x[i] < b->x[i])
            return -1;
        if (a->x[i] > b->x[i])
            return 1;
    }
    if (a->dim < b->dim)
        return -1;
    if (a->dim > b->dim)
        return 1;
    return 0;
}

}  // namespace ann::pg
