// Throughput of every distance kernel in every variant this CPU runs, with the vectors in L1
// cache, followed by a summary table and the speed-up of each SIMD variant over scalar for L2.
#include "core/distance.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace {

using ann::core::DistanceKernels;

constexpr std::size_t kDims[] = {128, 768, 1536};
constexpr std::size_t kMaxDim = 1536;
constexpr std::size_t kSpeedupTargetDim = 768;
constexpr double kSpeedupTarget = 4.0;

// Pgvector's on-page vector has an 8-byte header before its floats and tuples are 8-byte
// aligned, so real data sits 8 bytes past an alignment boundary and half of all 32-byte loads
// split a cache line. Measure that case rather than a flattering 64-byte-aligned one.
constexpr std::size_t kHeaderFloats = 2;
constexpr std::size_t kStride = kMaxDim + 16;

struct alignas(64) VectorPair {
    float storage[2 * kStride];
    const float *a() const { return storage + kHeaderFloats; }
    const float *b() const { return storage + kStride + kHeaderFloats; }
};

VectorPair make_vector_pair() {
    VectorPair pair{};
    for (std::size_t i = 0; i < std::size(pair.storage); ++i) {
        pair.storage[i] = static_cast<float>((i * 7919) % 1000) / 500.0f - 1.0f;
    }
    return pair;
}

const VectorPair kPair = make_vector_pair();

// Each loop calls through the kernel table, as the extension does, on the same in-cache pair.
void measure_l2_squared(benchmark::State &state, const DistanceKernels &k, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(k.l2_squared(kPair.a(), kPair.b(), n));
}
void measure_inner_product(benchmark::State &state, const DistanceKernels &k, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(k.inner_product(kPair.a(), kPair.b(), n));
}
void measure_l1(benchmark::State &state, const DistanceKernels &k, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(k.l1(kPair.a(), kPair.b(), n));
}
void measure_cosine_parts(benchmark::State &state, const DistanceKernels &k, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(k.cosine_parts(kPair.a(), kPair.b(), n));
}
void measure_norm_squared(benchmark::State &state, const DistanceKernels &k, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(k.norm_squared(kPair.a(), n));
}

struct Kernel {
    const char *name;
    std::size_t vectors_read;  // throughput counts the vector data a call reads
    void (*measure)(benchmark::State &, const DistanceKernels &, std::size_t);
};

const Kernel kKernels[] = {
    {"l2_squared", 2, measure_l2_squared},     {"inner_product", 2, measure_inner_product},
    {"l1", 2, measure_l1},                     {"cosine_parts", 2, measure_cosine_parts},
    {"norm_squared", 1, measure_norm_squared},
};

std::string benchmark_name(const std::string &kernel, const std::string &variant,
                           std::size_t dim) {
    return kernel + "/" + variant + "/" + std::to_string(dim);
}

// Fastest real time per call of each benchmark, by benchmark name.
using BestTimes = std::map<std::string, double>;

// Prints as usual and keeps the fastest time of each benchmark for the summary.
class SummarisingReporter : public benchmark::ConsoleReporter {
  public:
    explicit SummarisingReporter(BestTimes &best_ns)
        : ConsoleReporter(OO_Tabular), best_ns_(best_ns) {}

    void ReportRuns(const std::vector<Run> &runs) override {
        for (const Run &run : runs) {
            if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
            const double ns = run.GetAdjustedRealTime() * 1e9 /
                              benchmark::GetTimeUnitMultiplier(run.time_unit);
            const auto [entry, inserted] = best_ns_.emplace(run.run_name.function_name, ns);
            if (!inserted) entry->second = std::min(entry->second, ns);
        }
        ConsoleReporter::ReportRuns(runs);
    }

  private:
    BestTimes &best_ns_;
};

double best_ns(const BestTimes &best, const std::string &kernel, const std::string &variant,
               std::size_t dim) {
    const auto found = best.find(benchmark_name(kernel, variant, dim));
    return found == best.end() ? std::numeric_limits<double>::quiet_NaN() : found->second;
}

void print_summary(const std::vector<const DistanceKernels *> &variants, const BestTimes &best) {
    std::printf("\nThroughput, GB/s of vector data read (1 GB = 1e9 bytes; fastest run):\n");
    std::printf("%-14s %-8s", "kernel", "variant");
    for (std::size_t dim : kDims) std::printf(" %8zu", dim);
    std::printf("\n");
    for (const Kernel &kernel : kKernels) {
        for (const DistanceKernels *variant : variants) {
            std::printf("%-14s %-8s", kernel.name, variant->name);
            for (std::size_t dim : kDims) {
                const double bytes = static_cast<double>(kernel.vectors_read * dim * sizeof(float));
                std::printf(" %8.1f", bytes / best_ns(best, kernel.name, variant->name, dim));
            }
            std::printf("\n");
        }
    }

    std::printf("\nl2_squared speed-up over scalar (time per call):\n%-8s", "variant");
    for (std::size_t dim : kDims) std::printf(" %8zu", dim);
    std::printf("\n");
    for (const DistanceKernels *variant : variants) {
        std::printf("%-8s", variant->name);
        for (std::size_t dim : kDims) {
            std::printf(" %7.2fx", best_ns(best, "l2_squared", "scalar", dim) /
                                       best_ns(best, "l2_squared", variant->name, dim));
        }
        std::printf("\n");
    }
    if (ann::core::avx512_kernels() == nullptr) {
        std::printf("avx512   not measured: this CPU lacks AVX-512F\n");
    }

    if (ann::core::avx2_kernels() != nullptr) {
        const double speedup = best_ns(best, "l2_squared", "scalar", kSpeedupTargetDim) /
                               best_ns(best, "l2_squared", "avx2", kSpeedupTargetDim);
        if (!std::isnan(speedup)) {
            std::printf("\nTarget: avx2 l2_squared >= %.0fx scalar at %zu dims: %.2fx, %s\n",
                        kSpeedupTarget, kSpeedupTargetDim, speedup,
                        speedup >= kSpeedupTarget ? "met" : "NOT MET");
        }
    }
    std::printf("kernels() uses: %s\n", ann::core::kernels().name);
}

}  // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    std::vector<const DistanceKernels *> variants = {&ann::core::scalar_kernels()};
    for (const DistanceKernels *simd : {ann::core::avx2_kernels(), ann::core::avx512_kernels()}) {
        if (simd != nullptr) variants.push_back(simd);
    }

    for (const Kernel &kernel : kKernels) {
        for (const DistanceKernels *variant : variants) {
            for (std::size_t dim : kDims) {
                benchmark::RegisterBenchmark(
                    benchmark_name(kernel.name, variant->name, dim).c_str(),
                    [&kernel, variant, dim](benchmark::State &state) {
                        kernel.measure(state, *variant, dim);
                        state.SetBytesProcessed(static_cast<int64_t>(
                            state.iterations() * kernel.vectors_read * dim * sizeof(float)));
                    });
            }
        }
    }

    BestTimes best;
    SummarisingReporter reporter(best);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    print_summary(variants, best);
    return 0;
}
