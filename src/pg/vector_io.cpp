// `vector` text and binary I/O and its type modifier.
//
// Text:   '[1,2.5,-3e-05]'  optional whitespace around everything; elements parsed by strtof
//         (as float4in does, so `1.`, `+1`, `1e-3` and hex floats are accepted and no double
//         rounding happens); output is the shortest decimal that round-trips each float4,
//         exactly as float4out prints it.
// Binary: int16 dim, int16 unused (0), dim x float4, all in network byte order.
#include <cerrno>
#include <cstdlib>

#include "pg/guard.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
}

using ann::pg::kVectorMaxDim;
using ann::pg::Vector;

namespace {

// The whitespace array_in accepts (its own test is static, so spelled out here).
inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline const char *skip_spaces(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

[[noreturn]] void report_syntax(const char *literal)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type vector: \"%s\"", literal)));
    pg_unreachable();
}

}  // namespace

ANN_FUNCTION(vector_in)
{
    const char *literal = PG_GETARG_CSTRING(0);
    const int32 typmod = PG_GETARG_INT32(2);

    const char *p = skip_spaces(literal);
    if (*p != '[')
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type vector: \"%s\"", literal),
                        errdetail("Vector contents must start with \"[\".")));
    p = skip_spaces(p + 1);
    if (*p == ']')
        ann::pg::report_bad_dim(0);

    // Every element takes at least two characters (its digits and the ',' or ']' after it)
    // past the '[', so this bounds the element count without a first pass.
    const size_t length = strlen(literal);
    const int capacity = length / 2 + 1 < static_cast<size_t>(kVectorMaxDim)
                             ? static_cast<int>(length / 2 + 1)
                             : kVectorMaxDim;
    auto *result = static_cast<Vector *>(palloc0(ann::pg::vector_size(capacity)));
    int dim = 0;

    for (;;) {
        if (dim == capacity) {
            if (capacity == kVectorMaxDim)
                ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                                errmsg("vector cannot have more than %d dimensions",
                                       kVectorMaxDim)));
            elog(ERROR, "vector_in: element count exceeds its bound");
        }

        p = skip_spaces(p);
        if (*p == '\0')
            report_syntax(literal);

        char *end = nullptr;
        errno = 0;
        // LC_NUMERIC is "C" in every backend, so strtof reads '.' as the decimal point.
        const float value = std::strtof(p, &end);
        if (end == p)
            report_syntax(literal);
        // Overflow is an error; underflow (ERANGE with a zero or subnormal result) is not.
        if (errno == ERANGE && std::isinf(value))
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("\"%s\" is out of range for type vector",
                                   pnstrdup(p, end - p))));
        ann::pg::check_element(value);
        result->x[dim++] = value;

        p = skip_spaces(end);
        if (*p == ',') {
            p++;
        } else if (*p == ']') {
            p++;
            break;
        } else {
            report_syntax(literal);
        }
    }

    p = skip_spaces(p);
    if (*p != '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type vector: \"%s\"", literal),
                        errdetail("Junk after closing right brace.")));

    ann::pg::check_expected_dim(typmod, dim);

    // The allocation may be larger than needed; the varlena size says what is used.
    SET_VARSIZE(result, ann::pg::vector_size(dim));
    result->dim = static_cast<int16>(dim);
    result->unused = 0;
    PG_RETURN_POINTER(result);
}

ANN_FUNCTION(vector_out)
{
    const Vector *v = ann::pg::vector_arg(fcinfo, 0);
    const int dim = v->dim;

    // Each float takes at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters, plus a ',' before
    // all but the first, plus '[', ']' and the terminator.
    char *buf = static_cast<char *>(palloc(FLOAT_SHORTEST_DECIMAL_LEN * static_cast<Size>(dim) + 3));
    char *out = buf;
    *out++ = '[';
    for (int i = 0; i < dim; i++) {
        if (i > 0)
            *out++ = ',';
        out += float_to_shortest_decimal_bufn(v->x[i], out);
    }
    *out++ = ']';
    *out = '\0';
    PG_RETURN_CSTRING(buf);
}

ANN_FUNCTION(vector_typmod_in)
{
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count = 0;
    const int32 *values = ArrayGetIntegerTypmods(modifiers, &count);

    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid type modifier")));
    if (values[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type vector must be at least 1")));
    if (values[0] > kVectorMaxDim)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type vector cannot exceed %d", kVectorMaxDim)));
    PG_RETURN_INT32(values[0]);
}

ANN_FUNCTION(vector_recv)
{
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const int32 typmod = PG_GETARG_INT32(2);

    const auto dim = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));
    const auto unused = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));

    ann::pg::check_dim(dim);
    ann::pg::check_expected_dim(typmod, dim);
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected unused to be 0, not %d", unused)));

    Vector *result = ann::pg::vector_alloc(dim);
    for (int i = 0; i < dim; i++) {
        result->x[i] = pq_getmsgfloat4(buf);
        ann::pg::check_element(result->x[i]);
    }
    PG_RETURN_POINTER(result);
}

ANN_FUNCTION(vector_send)
{
    const Vector *v = ann::pg::vector_arg(fcinfo, 0);
    StringInfoData buf;

    pq_begintypsend(&buf);
    pq_sendint16(&buf, static_cast<uint16>(v->dim));
    pq_sendint16(&buf, static_cast<uint16>(v->unused));
    for (int i = 0; i < v->dim; i++)
        pq_sendfloat4(&buf, v->x[i]);
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
