// The Markdown form of a run's JSON report: a context list and one results table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ann_bench {

std::string report_markdown(const nlohmann::json &report);

}  // namespace ann_bench
