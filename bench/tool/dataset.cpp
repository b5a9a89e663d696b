#include "dataset.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>

#include "bench_error.hpp"

namespace ann_bench {

namespace {

// TEXMEX .fvecs/.ivecs: every row is an int32 dimension count and that many 4-byte values.
template <typename T>
Matrix<T> read_vecs(const std::string &path, size_t max_rows)
{
    static_assert(sizeof(T) == 4, "TEXMEX values are 4 bytes");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BenchError("cannot open " + path);
    in.seekg(0, std::ios::end);
    const auto bytes = static_cast<size_t>(in.tellg());
    in.seekg(0);
    int32_t dim = 0;
    if (bytes < sizeof dim || !in.read(reinterpret_cast<char *>(&dim), sizeof dim))
        throw BenchError(path + ": empty file");
    const size_t row_bytes = 4 * (static_cast<size_t>(dim) + 1);
    if (dim <= 0 || bytes % row_bytes != 0)
        throw BenchError(path + ": not a vecs file (first row has dimension " +
                         std::to_string(dim) + ", file has " + std::to_string(bytes) + " bytes)");
    Matrix<T> m;
    m.cols = dim;
    m.rows = bytes / row_bytes;
    if (max_rows != 0)
        m.rows = std::min(m.rows, max_rows);
    m.values.resize(m.rows * dim);
    in.seekg(0);
    for (size_t i = 0; i < m.rows; i++) {
        int32_t row_dim = 0;
        in.read(reinterpret_cast<char *>(&row_dim), sizeof row_dim);
        if (row_dim != dim)
            throw BenchError(path + ": row " + std::to_string(i) + " has dimension " +
                             std::to_string(row_dim) + ", not " + std::to_string(dim));
        in.read(reinterpret_cast<char *>(m.values.data() + i * dim), 4 * dim);
    }
    if (!in)
        throw BenchError(path + ": read error");
    return m;
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// The first known metric named after the word "metric" in the README ("- Metric: cosine").
std::string metric_from_readme(const std::string &folder)
{
    const std::string path = folder + "/README.md";
    std::ifstream in(path);
    if (!in)
        throw BenchError("no --metric given and " + path + " does not exist to name one");
    std::stringstream text;
    text << in.rdbuf();
    const std::string readme = lower(text.str());
    static const std::regex metric_word(R"(\bmetric\b[^a-z0-9\n]{0,8}?([a-z][a-z0-9_]*))");
    for (auto it = std::sregex_iterator(readme.begin(), readme.end(), metric_word);
         it != std::sregex_iterator(); ++it) {
        try {
            return metric_by_name((*it)[1].str()).name;
        } catch (const BenchError &) {
            // Not a metric name (e.g. "metric of ann-benchmarks"): keep looking.
        }
    }
    throw BenchError(path + " names no metric (a line like 'Metric: cosine'); pass --metric");
}

}  // namespace

Metric metric_by_name(const std::string &name)
{
    const std::string key = lower(name);
    if (key == "l2" || key == "euclidean")
        return {"l2", "<->", "vector_l2_ops"};
    if (key == "ip" || key == "inner_product" || key == "dot")
        return {"ip", "<#>", "vector_ip_ops"};
    if (key == "cosine" || key == "angular")
        return {"cosine", "<=>", "vector_cosine_ops"};
    throw BenchError("unknown metric '" + name + "' (known: l2, ip, cosine)");
}

Dataset load_dataset(const std::string &folder, const std::string &metric_name,
                     size_t max_queries, int k)
{
    Dataset d;
    d.path = folder;
    std::string trimmed = folder;
    while (trimmed.size() > 1 && trimmed.back() == '/')
        trimmed.pop_back();
    d.name = trimmed.substr(trimmed.find_last_of('/') + 1);
    d.metric = metric_by_name(metric_name.empty() ? metric_from_readme(folder) : metric_name);
    d.metric_source = metric_name.empty() ? "README.md" : "--metric";
    d.base = read_vecs<float>(folder + "/base.fvecs", 0);
    d.queries = read_vecs<float>(folder + "/query.fvecs", max_queries);
    d.groundtruth = read_vecs<int32_t>(folder + "/groundtruth.ivecs", max_queries);

    if (d.queries.cols != d.base.cols)
        throw BenchError("query.fvecs has " + std::to_string(d.queries.cols) +
                         " dimensions, base.fvecs " + std::to_string(d.base.cols));
    if (d.groundtruth.rows < d.queries.rows)
        throw BenchError("groundtruth.ivecs has fewer rows than query.fvecs");
    if (d.groundtruth.cols < k)
        throw BenchError("groundtruth.ivecs has only " + std::to_string(d.groundtruth.cols) +
                         " neighbours per query; k is " + std::to_string(k));
    if (d.base.rows > static_cast<size_t>(INT32_MAX))
        throw BenchError("base.fvecs has more rows than an int4 id can number");
    for (int32_t id : d.groundtruth.values)
        if (id < 0 || static_cast<size_t>(id) >= d.base.rows)
            throw BenchError("groundtruth.ivecs holds id " + std::to_string(id) +
                             ", outside the " + std::to_string(d.base.rows) + " base rows");
    return d;
}

}  // namespace ann_bench
