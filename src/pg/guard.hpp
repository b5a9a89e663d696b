// Entry-point guard: no C++ exception may cross into Postgres, and no ereport(ERROR) may be
// raised while a catch block is active (its longjmp would skip the exception's cleanup).
#pragma once

#include "pg/postgres.hpp"

namespace ann::pg {

enum class CaughtKind { none, out_of_memory, other };

// Runs body(); a C++ exception becomes ERROR once the catch block has ended. The body may
// ereport itself, provided no object with a non-trivial destructor is alive at that point.
// Index AM callbacks, which Postgres calls through plain function pointers, use it too.
template <typename Body>
auto guarded_call(const char *function_name, Body &&body) -> decltype(body())
{
    CaughtKind caught = CaughtKind::none;
    char what[256];
    what[0] = '\0';
    try {
        return body();
    } catch (const std::bad_alloc &) {
        caught = CaughtKind::out_of_memory;
    } catch (const std::exception &e) {
        caught = CaughtKind::other;
        strlcpy(what, e.what(), sizeof(what));
    } catch (...) {
        caught = CaughtKind::other;
        strlcpy(what, "unknown C++ exception", sizeof(what));
    }
    if (caught == CaughtKind::out_of_memory)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
                        errmsg("out of memory in %s", function_name)));
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("internal error in %s: %s", function_name, what)));
    pg_unreachable();
}

}  // namespace ann::pg

// Defines a SQL-callable function `name` whose body runs under guarded_call. Use as
//   ANN_FUNCTION(vector_dims) { ... return Int32GetDatum(...); }
// The body sees `fcinfo` like any V1 function.
#define ANN_FUNCTION(name)                                                             \
    static Datum name##_body(FunctionCallInfo fcinfo);                                 \
    extern "C" {                                                                       \
    PG_FUNCTION_INFO_V1(name);                                                         \
    Datum name(PG_FUNCTION_ARGS)                                                       \
    {                                                                                  \
        return ann::pg::guarded_call(#name, [fcinfo]() { return name##_body(fcinfo); }); \
    }                                                                                  \
    }                                                                                  \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)
