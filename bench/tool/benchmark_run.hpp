// One benchmark run: load the dataset into a fresh database, time exact scans, build the
// index, measure every search setting. Returns the report as JSON (see report_markdown.hpp
// for its fields); the process's exit status is decided from report["failures"].
#pragma once

#include <nlohmann/json.hpp>

#include "options.hpp"

namespace ann_bench {

nlohmann::json run_benchmark(const RunOptions &options);

}  // namespace ann_bench
