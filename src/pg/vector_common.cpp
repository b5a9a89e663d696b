// Error reports shared by the `vector` functions. Kept out of line so the checks in
// vector.hpp stay small enough to inline on hot paths.
#include "pg/vector.hpp"

namespace ann::pg {

void report_bad_dim(int dim)
{
    if (dim < 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("vector must have at least 1 dimension")));
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("vector cannot have more than %d dimensions", kVectorMaxDim)));
    pg_unreachable();
}

void report_unexpected_dim(int32 typmod, int dim)
{
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("expected %d dimensions, not %d", typmod, dim)));
    pg_unreachable();
}

void report_bad_element(float value)
{
    if (std::isnan(value))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("NaN not allowed in vector")));
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("infinite value not allowed in vector")));
    pg_unreachable();
}

void report_different_dims(int a_dim, int b_dim)
{
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different vector dimensions %d and %d", a_dim, b_dim)));
    pg_unreachable();
}

void report_overflow()
{
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("value out of range: overflow")));
    pg_unreachable();
}

void report_underflow()
{
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("value out of range: underflow")));
    pg_unreachable();
}

}  // namespace ann::pg
