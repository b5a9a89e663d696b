// amvalidate for our index methods: each opclass has one ORDER BY operator (strategy 1) and
// support function 1 (the distance rows are ranked by), plus optional support functions
// numbered 2..max_support.
#pragma once

#include "pg/postgres.hpp"

namespace ann::pg {

bool validate_ordering_opclass(Oid opclass_oid, const char *am_name, int16 max_support);

}  // namespace ann::pg
