// What EXPLAIN says a statement does: which scan nodes run, on which index.
#pragma once

#include <string>
#include <vector>

#include "pg_connection.hpp"

namespace ann_bench {

struct PlanNode {
    std::string type;        // "Index Scan", "Seq Scan", "Limit", ...
    std::string index_name;  // empty for nodes that read no index
};

struct QueryPlan {
    std::vector<PlanNode> nodes;  // depth first, root first

    bool uses_index(const std::string &index_name) const;
    bool uses_any_index() const;
    std::string describe() const;  // "Limit > Index Scan (items_v_idx)"
};

// EXPLAIN (FORMAT JSON) of a statement, e.g. "EXECUTE ann_query('[...]')".
QueryPlan explain(Connection &conn, const std::string &statement);

}  // namespace ann_bench
