#include "query_plan.hpp"

#include <nlohmann/json.hpp>

#include "bench_error.hpp"

namespace ann_bench {

namespace {

void flatten(const nlohmann::json &node, std::vector<PlanNode> &out)
{
    out.push_back({node.value("Node Type", ""), node.value("Index Name", "")});
    if (node.contains("Plans"))
        for (const auto &child : node["Plans"])
            flatten(child, out);
}

}  // namespace

bool QueryPlan::uses_index(const std::string &index_name) const
{
    for (const auto &node : nodes)
        if (node.index_name == index_name)
            return true;
    return false;
}

bool QueryPlan::uses_any_index() const
{
    for (const auto &node : nodes)
        if (!node.index_name.empty())
            return true;
    return false;
}

std::string QueryPlan::describe() const
{
    std::string text;
    for (const auto &node : nodes) {
        if (!text.empty())
            text += " > ";
        text += node.type;
        if (!node.index_name.empty())
            text += " (" + node.index_name + ")";
    }
    return text;
}

QueryPlan explain(Connection &conn, const std::string &statement)
{
    const std::string json_text = conn.scalar("EXPLAIN (FORMAT JSON) " + statement);
    QueryPlan plan;
    try {
        flatten(nlohmann::json::parse(json_text).at(0).at("Plan"), plan.nodes);
    } catch (const nlohmann::json::exception &e) {
        throw BenchError("cannot read the EXPLAIN output of " + statement + ": " + e.what());
    }
    return plan;
}

}  // namespace ann_bench
