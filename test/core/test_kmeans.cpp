// k-means for ivfflat: determinism, slicing, empty clusters, duplicates, too few samples,
// spherical centres, and clustering quality against the known clusters of a mixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "core/distance.h"
#include "core/kmeans.h"

namespace ann::core {
namespace {

// Samples around `clusters` well separated centres; returns the samples and the true centres.
struct Mixture {
    std::vector<float> samples;
    std::vector<float> centres;
};

Mixture gaussian_mixture(std::uint32_t count, std::uint32_t dimensions, std::uint32_t clusters,
                         float spread, std::uint64_t seed)
{
    std::mt19937_64 random(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Mixture mixture;
    mixture.centres.resize(std::size_t(clusters) * dimensions);
    for (float &c : mixture.centres)
        c = 10.0f * normal(random);
    mixture.samples.resize(std::size_t(count) * dimensions);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t cluster = i % clusters;
        for (std::uint32_t d = 0; d < dimensions; ++d)
            mixture.samples[std::size_t(i) * dimensions + d] =
                mixture.centres[std::size_t(cluster) * dimensions + d] + spread * normal(random);
    }
    return mixture;
}

struct Result {
    std::vector<float> centres;
    std::vector<std::uint32_t> assignment;
    std::uint32_t iterations = 0;
    std::uint32_t steps = 0;
};

Result run(std::vector<float> samples, const KmeansParams &params, std::uint64_t work_per_step = 1u << 20)
{
    const std::uint32_t count = std::uint32_t(samples.size() / params.dimensions);
    Kmeans kmeans;
    EXPECT_EQ(kmeans.init(system_memory_hooks(), params, samples.data(), count, work_per_step), KmeansStatus::ok);
    Result result;
    while (kmeans.step())
        result.steps++;
    result.centres.assign(kmeans.centres(), kmeans.centres() + std::size_t(params.clusters) * params.dimensions);
    if (kmeans.iterations() > 0)
        result.assignment.assign(kmeans.assignment(), kmeans.assignment() + count);
    result.iterations = kmeans.iterations();
    kmeans.release();
    return result;
}

KmeansParams params_for(std::uint32_t dimensions, std::uint32_t clusters, bool spherical = false,
                        std::uint64_t seed = 7)
{
    KmeansParams params;
    params.dimensions = dimensions;
    params.clusters = clusters;
    params.max_iterations = 50;
    params.spherical = spherical;
    params.seed = seed;
    return params;
}

std::uint32_t nearest_of(const std::vector<float> &centres, std::uint32_t dimensions, bool spherical, const float *x)
{
    const std::uint32_t k = std::uint32_t(centres.size() / dimensions);
    std::vector<float> norms(k);
    centre_norms(centres.data(), k, dimensions, norms.data());
    return nearest_centre(centres.data(), norms.data(), k, dimensions, spherical, x);
}

// Sum of squared distances from each sample to its nearest centre.
double inertia(const std::vector<float> &samples, const std::vector<float> &centres, std::uint32_t dimensions)
{
    const std::uint32_t k = std::uint32_t(centres.size() / dimensions);
    std::vector<float> norms(k);
    centre_norms(centres.data(), k, dimensions, norms.data());
    double total = 0;
    for (std::size_t i = 0; i < samples.size() / dimensions; ++i) {
        const float *x = &samples[i * dimensions];
        const std::uint32_t nearest = nearest_centre(centres.data(), norms.data(), k, dimensions, false, x);
        total += kernels().l2_squared(x, &centres[std::size_t(nearest) * dimensions], dimensions);
    }
    return total;
}

bool all_finite(const std::vector<float> &values)
{
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

TEST(Kmeans, SameSeedSameCentresAnySlicing)
{
    const Mixture mixture = gaussian_mixture(3000, 16, 12, 3.0f, 1);
    const KmeansParams params = params_for(16, 40);
    const Result first = run(mixture.samples, params);
    const Result again = run(mixture.samples, params);
    // A budget of a few distances per step slices every pass into thousands of steps.
    const Result sliced = run(mixture.samples, params, 16 * 40);
    EXPECT_EQ(first.centres, again.centres);
    EXPECT_EQ(first.centres, sliced.centres);
    EXPECT_EQ(first.assignment, sliced.assignment);
    EXPECT_GT(sliced.steps, 100 * first.steps);

    const Result other_seed = run(mixture.samples, params_for(16, 40, false, 8));
    EXPECT_NE(first.centres, other_seed.centres);
}

TEST(Kmeans, FindsWellSeparatedClusters)
{
    constexpr std::uint32_t kDims = 24;
    constexpr std::uint32_t kClusters = 20;
    const Mixture mixture = gaussian_mixture(10000, kDims, kClusters, 1.0f, 2);
    const Result result = run(mixture.samples, params_for(kDims, kClusters));
    const double found = inertia(mixture.samples, result.centres, kDims);
    const double truth = inertia(mixture.samples, mixture.centres, kDims);
    // k-means++ can merge two clusters and split another, which costs far more than 10%.
    EXPECT_LT(found, 1.10 * truth) << "found " << found << ", true centres " << truth;
}

TEST(Kmeans, BeatsRandomCentresOnOverlappingData)
{
    constexpr std::uint32_t kDims = 32;
    const Mixture mixture = gaussian_mixture(8000, kDims, 30, 8.0f, 3);
    const Result result = run(mixture.samples, params_for(kDims, 64));
    // Baseline: 64 samples picked at random as centres (what a single assignment gives).
    std::vector<float> random_centres;
    std::mt19937_64 random(4);
    for (int j = 0; j < 64; ++j) {
        const std::size_t i = random() % 8000;
        random_centres.insert(random_centres.end(), &mixture.samples[i * kDims], &mixture.samples[(i + 1) * kDims]);
    }
    EXPECT_LT(inertia(mixture.samples, result.centres, kDims), 0.9 * inertia(mixture.samples, random_centres, kDims));
}

TEST(Kmeans, FinalAssignmentIsTheNearestCentre)
{
    constexpr std::uint32_t kDims = 16;
    const Mixture mixture = gaussian_mixture(5000, kDims, 25, 6.0f, 5);
    const Result result = run(mixture.samples, params_for(kDims, 50));
    ASSERT_EQ(result.assignment.size(), 5000u);
    std::uint32_t wrong = 0;
    for (std::uint32_t i = 0; i < 5000; ++i) {
        const float *x = &mixture.samples[std::size_t(i) * kDims];
        const std::uint32_t nearest = nearest_of(result.centres, kDims, false, x);
        const float assigned = kernels().l2_squared(x, &result.centres[std::size_t(result.assignment[i]) * kDims], kDims);
        const float best = kernels().l2_squared(x, &result.centres[std::size_t(nearest) * kDims], kDims);
        // The last update moved the centres after the last assignment; allow that slack only.
        if (assigned > best * 1.05f + 1e-3f)
            wrong++;
    }
    EXPECT_LT(wrong, 50u);
}

TEST(Kmeans, NoClusterLeftEmptyWhenSamplesAllowIt)
{
    constexpr std::uint32_t kDims = 8;
    // Three tight blobs and one far outlier group; many more clusters than blobs.
    const Mixture mixture = gaussian_mixture(2000, kDims, 3, 0.5f, 6);
    const Result result = run(mixture.samples, params_for(kDims, 60));
    std::vector<std::uint32_t> sizes(60, 0);
    for (std::uint32_t a : result.assignment)
        sizes[a]++;
    EXPECT_EQ(std::count(sizes.begin(), sizes.end(), 0u), 0);
}

TEST(Kmeans, DuplicatesAndTooFewDistinctSamples)
{
    constexpr std::uint32_t kDims = 4;
    // 1,000 samples, only 5 distinct vectors, 20 clusters.
    std::vector<float> samples;
    for (int i = 0; i < 1000; ++i)
        for (std::uint32_t d = 0; d < kDims; ++d)
            samples.push_back(float((i % 5) * 10 + d));
    const Result result = run(samples, params_for(kDims, 20));
    EXPECT_TRUE(all_finite(result.centres));
    // Every distinct vector is exactly a centre.
    for (int v = 0; v < 5; ++v) {
        const float *x = &samples[std::size_t(v) * kDims];
        const std::uint32_t nearest = nearest_of(result.centres, kDims, false, x);
        EXPECT_EQ(kernels().l2_squared(x, &result.centres[std::size_t(nearest) * kDims], kDims), 0.0f);
    }
    // The other centres are distinct placeholders inside the samples' bounding box.
    std::set<std::vector<float>> distinct;
    for (int j = 0; j < 20; ++j) {
        std::vector<float> c(&result.centres[std::size_t(j) * kDims], &result.centres[std::size_t(j + 1) * kDims]);
        for (std::uint32_t d = 0; d < kDims; ++d) {
            EXPECT_GE(c[d], float(d));
            EXPECT_LE(c[d], float(40 + d));
        }
        distinct.insert(c);
    }
    EXPECT_EQ(distinct.size(), 20u);
}

TEST(Kmeans, FewerSamplesThanClustersAndNone)
{
    constexpr std::uint32_t kDims = 6;
    const Mixture mixture = gaussian_mixture(7, kDims, 7, 1.0f, 9);
    const Result few = run(mixture.samples, params_for(kDims, 30));
    EXPECT_TRUE(all_finite(few.centres));
    for (std::uint32_t i = 0; i < 7; ++i) {
        const float *x = &mixture.samples[std::size_t(i) * kDims];
        const std::uint32_t nearest = nearest_of(few.centres, kDims, false, x);
        EXPECT_EQ(kernels().l2_squared(x, &few.centres[std::size_t(nearest) * kDims], kDims), 0.0f);
    }

    const Result none = run({}, params_for(kDims, 10, true));
    ASSERT_EQ(none.centres.size(), 10u * kDims);
    for (int j = 0; j < 10; ++j)
        EXPECT_NEAR(kernels().norm_squared(&none.centres[std::size_t(j) * kDims], kDims), 1.0f, 1e-5f);
    EXPECT_EQ(none.centres, run({}, params_for(kDims, 10, true)).centres);
}

TEST(Kmeans, SphericalCentresAreUnitAndClusterByDirection)
{
    constexpr std::uint32_t kDims = 16;
    Mixture mixture = gaussian_mixture(4000, kDims, 10, 1.0f, 10);
    // Scale every sample by a random length: directions, not lengths, define the clusters.
    std::mt19937_64 random(11);
    std::uniform_real_distribution<float> length(0.1f, 100.0f);
    for (std::size_t i = 0; i < 4000; ++i) {
        const float scale = length(random);
        for (std::uint32_t d = 0; d < kDims; ++d)
            mixture.samples[i * kDims + d] *= scale;
    }
    const Result result = run(mixture.samples, params_for(kDims, 10, true));
    for (int j = 0; j < 10; ++j)
        EXPECT_NEAR(kernels().norm_squared(&result.centres[std::size_t(j) * kDims], kDims), 1.0f, 1e-4f);
    // Samples of one true cluster share a list (by inner product with the unit centres).
    std::uint32_t agree = 0;
    for (std::uint32_t i = 0; i < 4000; ++i) {
        const std::uint32_t list = nearest_of(result.centres, kDims, true, &mixture.samples[std::size_t(i) * kDims]);
        const std::uint32_t first_of_cluster = i % 10;
        agree += list == nearest_of(result.centres, kDims, true,
                                        &mixture.samples[std::size_t(first_of_cluster) * kDims]) ? 1 : 0;
    }
    EXPECT_GT(agree, 3900u);
}

TEST(Kmeans, RejectsBadParameters)
{
    Kmeans kmeans;
    float sample[4] = {1, 2, 3, 4};
    EXPECT_EQ(kmeans.init(system_memory_hooks(), params_for(0, 4), sample, 1), KmeansStatus::invalid_argument);
    EXPECT_EQ(kmeans.init(system_memory_hooks(), params_for(4, 0), sample, 1), KmeansStatus::invalid_argument);
    EXPECT_EQ(kmeans.init(system_memory_hooks(), params_for(4, 4), nullptr, 3), KmeansStatus::invalid_argument);
}

TEST(Kmeans, NearestCentreMatchesBruteForce)
{
    constexpr std::uint32_t kDims = 20;
    const Mixture mixture = gaussian_mixture(500, kDims, 50, 5.0f, 12);
    const std::vector<float> &centres = mixture.centres;
    for (std::size_t i = 0; i < 500; ++i) {
        const float *x = &mixture.samples[i * kDims];
        std::uint32_t best = 0;
        double best_distance = 1e300;
        std::uint32_t best_angle = 0;
        double best_product = -1e300;
        for (std::uint32_t j = 0; j < 50; ++j) {
            double distance = 0, product = 0;
            for (std::uint32_t d = 0; d < kDims; ++d) {
                const double diff = double(x[d]) - centres[j * kDims + d];
                distance += diff * diff;
                product += double(x[d]) * centres[j * kDims + d];
            }
            if (distance < best_distance) {
                best_distance = distance;
                best = j;
            }
            if (product > best_product) {
                best_product = product;
                best_angle = j;
            }
        }
        EXPECT_EQ(nearest_of(centres, kDims, false, x), best);
        EXPECT_EQ(nearest_of(centres, kDims, true, x), best_angle);
    }
}

}  // namespace
}  // namespace ann::core
