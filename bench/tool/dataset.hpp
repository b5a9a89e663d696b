// A TEXMEX dataset folder: base.fvecs, query.fvecs, groundtruth.ivecs (0-based base row ids
// of each query's nearest neighbours) and a README.md that names the metric.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ann_bench {

struct Metric {
    std::string name;      // l2, ip, cosine
    std::string op;        // the SQL distance operator
    std::string opclass;   // the index operator class for that operator
};

// Throws for a name that is none of the metrics (or their ann-benchmarks aliases).
Metric metric_by_name(const std::string &name);

template <typename T>
struct Matrix {
    size_t rows = 0;
    int cols = 0;
    std::vector<T> values;  // row-major
    const T *row(size_t i) const { return values.data() + i * cols; }
};

struct Dataset {
    std::string name;  // the folder's name
    std::string path;
    Metric metric;
    std::string metric_source;  // "README.md" or "--metric"
    Matrix<float> base;
    Matrix<float> queries;
    Matrix<int32_t> groundtruth;  // at least k ids per query
};

// Loads and cross-checks the files; max_queries = 0 keeps all queries. An empty
// metric_name means: read it from the folder's README.md.
Dataset load_dataset(const std::string &folder, const std::string &metric_name,
                     size_t max_queries, int k);

}  // namespace ann_bench
