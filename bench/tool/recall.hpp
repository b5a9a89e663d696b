// recall@k of returned ids against the ground truth.
#pragma once

#include <cstdint>
#include <vector>

#include "dataset.hpp"

namespace ann_bench {

struct RecallSummary {
    double recall = 0;       // mean over queries of |returned ∩ true top-k| / k
    size_t short_queries = 0;  // queries that returned fewer than k rows
};

// results[i] holds the ids returned for query i; an id returned twice counts once.
RecallSummary measure_recall(const std::vector<std::vector<int32_t>> &results,
                             const Matrix<int32_t> &groundtruth, int k);

}  // namespace ann_bench
