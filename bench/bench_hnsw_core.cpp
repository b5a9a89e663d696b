// Single-thread throughput of the HNSW core: build speed on random data, then build time and
// recall@10 / queries per second on GloVe-100 (cosine) against its ground truth.
//
//   make    # builds src/core/*.o
//   g++ -std=c++17 -O2 -Wall -Wextra -Isrc -o bench/bench_hnsw_core bench/bench_hnsw_core.cpp src/core/*.o
//   bench/bench_hnsw_core [data-dir [seed]]    # default /work/shared/data/glove-100-angular, 42
//
// The seed draws the node levels of the GloVe build: compare recall over a few.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/hnsw_build.h"
#include "core/hnsw_graph.h"
#include "core/hnsw_search.h"

using namespace ann::core;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// TEXMEX format: every row is an int32 dimension count followed by that many 4-byte values.
template <typename T>
bool read_vecs(const std::string &path, std::vector<T> &values, std::uint32_t &dimensions,
               std::uint32_t &rows)
{
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (file == nullptr)
        return false;
    std::int32_t dim = 0;
    values.clear();
    rows = 0;
    while (std::fread(&dim, sizeof(dim), 1, file) == 1) {
        values.resize(values.size() + std::size_t(dim));
        if (std::fread(values.data() + values.size() - dim, sizeof(T), std::size_t(dim), file) != std::size_t(dim))
            break;
        dimensions = std::uint32_t(dim);
        ++rows;
    }
    std::fclose(file);
    return rows > 0;
}

void normalise(std::vector<float> &data, std::uint32_t dimensions)
{
    for (std::size_t row = 0; row < data.size() / dimensions; ++row) {
        float *v = &data[row * dimensions];
        double norm = 0;
        for (std::uint32_t d = 0; d < dimensions; ++d)
            norm += double(v[d]) * v[d];
        const float scale = norm > 0 ? float(1.0 / std::sqrt(norm)) : 0.0f;
        for (std::uint32_t d = 0; d < dimensions; ++d)
            v[d] *= scale;
    }
}

struct Built {
    std::unique_ptr<std::uint8_t[]> memory;
    HnswGraph graph;
    double seconds = 0;
    std::uint32_t relinked = 0;
};

bool build(const HnswParams &params, const std::vector<float> &vectors, std::uint32_t count, Built &built)
{
    const std::size_t bytes = HnswGraph::required_bytes(params, count);
    built.memory.reset(new std::uint8_t[bytes]);
    if (built.graph.init(built.memory.get(), bytes, params, count, vectors.data()) != HnswStatus::ok)
        return false;
    HnswBuilder builder;
    if (builder.init(built.graph, system_memory_hooks()) != HnswStatus::ok)
        return false;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t node = 0; node < count; ++node) {
        if (builder.insert(node) != HnswStatus::ok)
            return false;
    }
    const HnswStatus status = builder.link_unreachable_nodes(&built.relinked);
    built.seconds = seconds_since(start);
    builder.release();
    return status == HnswStatus::ok;
}

// FNV-1a over every node's links on every layer, and its copies: equal for equal graphs, so
// that two builds (say before and after a change to the build) can be compared.
std::uint64_t graph_checksum(const HnswGraph &graph)
{
    std::uint64_t hash = 0xCBF29CE484222325ull;
    auto mix = [&](std::uint32_t word) {
        for (int byte = 0; byte < 4; ++byte) {
            hash ^= (word >> (8 * byte)) & 0xFF;
            hash *= 0x100000001B3ull;
        }
    };
    for (std::uint32_t node = 0; node < graph.capacity(); ++node) {
        mix(graph.copy_of(node));
        for (int level = 0; level <= graph.level(node); ++level) {
            const HnswGraph::Links links = graph.links(node, level);
            mix(links.count);
            for (std::uint32_t i = 0; i < links.count; ++i)
                mix(links.ids[i]);
        }
    }
    return hash;
}

void bench_random_build(std::uint32_t count, std::uint32_t dimensions)
{
    std::mt19937_64 random(1);
    std::normal_distribution<float> normal;
    std::vector<float> vectors(std::size_t(count) * dimensions);
    for (float &x : vectors)
        x = normal(random);
    Built built;
    if (!build(HnswParams{dimensions, 16, 64, HnswMetric::l2_squared, 42, HnswGraph::kMaxLevel}, vectors, count, built)) {
        std::printf("random build failed\n");
        return;
    }
    std::printf("random %u x %u, l2, m=16, ef_construction=64: build %.2f s, %.0f nodes/s, graph %016llx\n",
                count, dimensions, built.seconds, count / built.seconds,
                static_cast<unsigned long long>(graph_checksum(built.graph)));
}

// The adapter's path: 48-bit ids, hash-set visited, links read one node at a time. As the
// in-memory search does, it first filters a node's links through the visited set and
// prefetches the vectors still needed, then computes their distances: memory latency, not
// arithmetic, bounds a graph search.
std::uint64_t item_pointer_of(std::uint32_t node) { return std::uint64_t(node / 50 + 1) << 16 | (node % 50 + 1); }
std::uint32_t node_of(std::uint64_t item) { return std::uint32_t(((item >> 16) - 1) * 50 + (item & 0xFFFF) - 1); }

std::uint32_t scan_search(const HnswGraph &graph, ScanSearchState &state, const float *query,
                          std::uint32_t ef, std::uint32_t k, std::uint32_t *ids)
{
    const std::uint32_t entry = graph.entry_point();
    state.start(item_pointer_of(entry), graph.distance()(query, graph.vector(entry)), graph.max_level(), ef);
    std::uint64_t item;
    std::uint32_t fresh[2 * HnswGraph::kMaxM];
    while (state.pop_candidate(&item)) {
        const HnswGraph::Links links = graph.links(node_of(item), state.level());
        std::uint64_t next;
        if (state.peek_candidate(&next))
            graph.prefetch_links(node_of(next), state.level());
        for (std::uint32_t i = 0; i < links.count; ++i)
            state.prefetch_visited(item_pointer_of(links.ids[i]));
        std::uint32_t fresh_count = 0;
        for (std::uint32_t i = 0; i < links.count; ++i) {
            if (state.mark_visited(item_pointer_of(links.ids[i]))) {
                fresh[fresh_count++] = links.ids[i];
                __builtin_prefetch(graph.vector(links.ids[i]));
            }
        }
        for (std::uint32_t i = 0; i < fresh_count; ++i) {
            if (i + 1 < fresh_count) {
                const char *next = reinterpret_cast<const char *>(graph.vector(fresh[i + 1]));
                for (std::uint32_t offset = 64; offset < graph.dimensions() * sizeof(float); offset += 64)
                    __builtin_prefetch(next + offset);
            }
            state.offer(item_pointer_of(fresh[i]), graph.distance()(query, graph.vector(fresh[i])));
        }
    }
    const std::uint32_t found = state.result_count() < k ? state.result_count() : k;
    for (std::uint32_t i = 0; i < found; ++i)
        ids[i] = node_of(state.result_id(i));
    return found;
}

int bench_glove(const std::string &directory, std::uint64_t seed)
{
    std::vector<float> base, queries;
    std::vector<std::int32_t> truth;
    std::uint32_t dimensions = 0, base_count = 0, query_count = 0, truth_width = 0, truth_rows = 0;
    if (!read_vecs(directory + "/base.fvecs", base, dimensions, base_count) ||
        !read_vecs(directory + "/query.fvecs", queries, dimensions, query_count) ||
        !read_vecs(directory + "/groundtruth.ivecs", truth, truth_width, truth_rows)) {
        std::printf("cannot read %s/{base,query}.fvecs, groundtruth.ivecs\n", directory.c_str());
        return 1;
    }
    normalise(base, dimensions);
    normalise(queries, dimensions);

    Built built;
    const HnswParams params{dimensions, 16, 64, HnswMetric::negative_inner_product, seed, HnswGraph::kMaxLevel};
    if (!build(params, base, base_count, built)) {
        std::printf("glove build failed\n");
        return 1;
    }
    std::printf("glove %u x %u, cosine, m=16, ef_construction=64, seed %llu: build %.2f s, %.0f nodes/s"
                " (%u relinked at the end), graph %016llx\n",
                base_count, dimensions, static_cast<unsigned long long>(seed), built.seconds,
                base_count / built.seconds, built.relinked,
                static_cast<unsigned long long>(graph_checksum(built.graph)));

    constexpr std::uint32_t k = 10;
    BuildSearchState dense;
    ScanSearchState scan;
    constexpr std::uint32_t kWidestEf = 400;
    if (dense.init(system_memory_hooks(), kWidestEf, base_count) != HnswStatus::ok ||
        scan.init(system_memory_hooks(), kWidestEf, kWidestEf * 2 * params.m) != HnswStatus::ok)
        return 1;
    for (std::uint32_t ef : {40u, 80u, 160u, 320u, kWidestEf}) {
        for (bool adapter_path : {false, true}) {
            // Best of three passes: this machine's neighbours make single timings noisy.
            std::size_t hits = 0;
            double elapsed = 0;
            for (int pass = 0; pass < 3; ++pass) {
                std::uint32_t ids[k];
                float distances[k];
                hits = 0;
                const auto start = std::chrono::steady_clock::now();
                for (std::uint32_t q = 0; q < query_count; ++q) {
                    const float *query = &queries[std::size_t(q) * dimensions];
                    const std::uint32_t found =
                        adapter_path ? scan_search(built.graph, scan, query, ef, k, ids)
                                     : search_graph(built.graph, dense, query, ef, k, ids, distances);
                    const std::int32_t *expected = &truth[std::size_t(q) * truth_width];
                    for (std::uint32_t i = 0; i < found; ++i)
                        for (std::uint32_t j = 0; j < k; ++j)
                            hits += ids[i] == std::uint32_t(expected[j]) ? 1 : 0;
                }
                const double seconds = seconds_since(start);
                elapsed = pass == 0 || seconds < elapsed ? seconds : elapsed;
            }
            std::printf("  ef_search %3u %-22s recall@10 %.4f  %7.0f queries/s\n", ef,
                        adapter_path ? "(item pointers, hash)" : "(dense ids)",
                        double(hits) / (double(query_count) * k), query_count / elapsed);
        }
    }
    dense.release();
    scan.release();
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    std::printf("distance kernels: %s\n", kernels().name);
    bench_random_build(20000, 32);
    return bench_glove(argc > 1 ? argv[1] : "/work/shared/data/glove-100-angular",
                       argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 42);
}
