#include "recall.hpp"

#include <algorithm>

#include "bench_error.hpp"

namespace ann_bench {

RecallSummary measure_recall(const std::vector<std::vector<int32_t>> &results,
                             const Matrix<int32_t> &groundtruth, int k)
{
    if (results.empty() || results.size() > groundtruth.rows)
        throw BenchError("recall: result count does not match the ground truth");
    RecallSummary summary;
    double total = 0;
    for (size_t q = 0; q < results.size(); q++) {
        std::vector<int32_t> truth(groundtruth.row(q), groundtruth.row(q) + k);
        std::sort(truth.begin(), truth.end());
        std::vector<int32_t> returned = results[q];
        std::sort(returned.begin(), returned.end());
        returned.erase(std::unique(returned.begin(), returned.end()), returned.end());
        std::vector<int32_t> common;
        std::set_intersection(returned.begin(), returned.end(), truth.begin(), truth.end(),
                              std::back_inserter(common));
        total += static_cast<double>(common.size()) / k;
        if (results[q].size() < static_cast<size_t>(k))
            summary.short_queries++;
    }
    summary.recall = total / static_cast<double>(results.size());
    return summary;
}

}  // namespace ann_bench
