// recall@k against QPS, one curve per run and series (index and client count), drawn by
// gnuplot, so that runs written at different times can be compared in one picture.
#pragma once

#include <string>
#include <vector>

namespace ann_bench {

void plot_reports(const std::vector<std::string> &json_paths, const std::string &png_path);

}  // namespace ann_bench
