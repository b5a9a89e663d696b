// `vector` comparisons for the default btree opclass `vector_ops` (ORDER BY, DISTINCT,
// GROUP BY, UNIQUE, merge joins). The order is vector_compare's: element-wise, then length.
#include "pg/guard.hpp"
#include "pg/vector.hpp"

using ann::pg::Vector;

namespace {

inline int compare_args(FunctionCallInfo fcinfo)
{
    const Vector *a = ann::pg::vector_arg(fcinfo, 0);
    const Vector *b = ann::pg::vector_arg(fcinfo, 1);
    return ann::pg::vector_compare(a, b);
}

}  // namespace

ANN_FUNCTION(vector_lt) { PG_RETURN_BOOL(compare_args(fcinfo) < 0); }
ANN_FUNCTION(vector_le) { PG_RETURN_BOOL(compare_args(fcinfo) <= 0); }
ANN_FUNCTION(vector_eq) { PG_RETURN_BOOL(compare_args(fcinfo) == 0); }
ANN_FUNCTION(vector_ne) { PG_RETURN_BOOL(compare_args(fcinfo) != 0); }
ANN_FUNCTION(vector_ge) { PG_RETURN_BOOL(compare_args(fcinfo) >= 0); }
ANN_FUNCTION(vector_gt) { PG_RETURN_BOOL(compare_args(fcinfo) > 0); }
ANN_FUNCTION(vector_cmp) { PG_RETURN_INT32(compare_args(fcinfo)); }
