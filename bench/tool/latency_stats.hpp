// Percentiles of per-query latencies.
#pragma once

#include <vector>

namespace ann_bench {

struct LatencySummary {
    double p50_ms = 0;
    double p99_ms = 0;
    double mean_ms = 0;
    double max_ms = 0;
};

// Percentiles interpolate linearly between order statistics (numpy's default), so the
// figures match annbench's for the same latencies.
LatencySummary summarize_latencies(std::vector<double> latencies_ms);

}  // namespace ann_bench
