#include "latency_stats.hpp"

#include <algorithm>
#include <numeric>

#include "bench_error.hpp"

namespace ann_bench {

namespace {

double percentile(const std::vector<double> &sorted, double fraction)
{
    const double position = fraction * static_cast<double>(sorted.size() - 1);
    const size_t below = static_cast<size_t>(position);
    const size_t above = std::min(below + 1, sorted.size() - 1);
    const double weight = position - static_cast<double>(below);
    return sorted[below] + (sorted[above] - sorted[below]) * weight;
}

}  // namespace

LatencySummary summarize_latencies(std::vector<double> latencies_ms)
{
    if (latencies_ms.empty())
        throw BenchError("no latencies to summarize");
    std::sort(latencies_ms.begin(), latencies_ms.end());
    LatencySummary s;
    s.p50_ms = percentile(latencies_ms, 0.50);
    s.p99_ms = percentile(latencies_ms, 0.99);
    s.mean_ms = std::accumulate(latencies_ms.begin(), latencies_ms.end(), 0.0) /
                static_cast<double>(latencies_ms.size());
    s.max_ms = latencies_ms.back();
    return s;
}

}  // namespace ann_bench
