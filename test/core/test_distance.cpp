// Every compiled kernel variant against a double-precision reference, plus the dispatcher and
// the cosine arithmetic.
#include "core/distance.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ann::core {
namespace {

// Lengths around every unroll boundary (8 and 32 floats for AVX2, 16 and 64 for AVX-512),
// common embedding sizes, and pgvector's 16000-dimension maximum.
constexpr std::size_t kDims[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 768, 1000, 1536, 16000};

// Variants differ from the reference only by float rounding of the terms and of the running
// sums. That error is bounded relative to the sum of the terms' magnitudes, not to the result,
// which for a dot product of random signs can be near zero.
constexpr double kRelativeTolerance = 1e-5;

struct Variant {
    const char *name;
    const DistanceKernels *(*available)() noexcept;
    const char *required_feature;
};

std::ostream &operator<<(std::ostream &out, const Variant &variant) { return out << variant.name; }

const DistanceKernels *scalar_available() noexcept { return &scalar_kernels(); }

const Variant kVariants[] = {
    {"scalar", scalar_available, "nothing"},
    {"avx2", avx2_kernels, "AVX2 and FMA"},
    {"avx512", avx512_kernels, "AVX-512F"},
};

// A value with the sum of its terms' magnitudes, which scales the tolerated rounding error.
struct Reference {
    double value = 0;
    double magnitude = 0;

    void add(double term) {
        value += term;
        magnitude += std::fabs(term);
    }
};

Reference reference_l2_squared(const float *a, const float *b, std::size_t n) {
    Reference sum;
    for (std::size_t i = 0; i < n; ++i) {
        const double diff = double(a[i]) - double(b[i]);
        sum.add(diff * diff);
    }
    return sum;
}

Reference reference_inner_product(const float *a, const float *b, std::size_t n) {
    Reference sum;
    for (std::size_t i = 0; i < n; ++i) sum.add(double(a[i]) * double(b[i]));
    return sum;
}

Reference reference_l1(const float *a, const float *b, std::size_t n) {
    Reference sum;
    for (std::size_t i = 0; i < n; ++i) sum.add(std::fabs(double(a[i]) - double(b[i])));
    return sum;
}

void expect_close(float actual, const Reference &expected) {
    EXPECT_NEAR(actual, expected.value, kRelativeTolerance * expected.magnitude);
}

// Two vectors placed as Postgres may hand them over: 4-byte aligned but 4 bytes past a 16-byte
// boundary, so every full-width load is unaligned. NaNs surround each vector: a kernel reading
// outside [0, n) would turn its result into NaN.
class VectorPair {
  public:
    explicit VectorPair(std::size_t n)
        : n_(n), stride_((n + kPadding + 15) / 16 * 16), storage_(2 * stride_, kPoison) {}

    float *a() { return storage_.data() + 1; }
    float *b() { return storage_.data() + stride_ + 1; }
    std::size_t size() const { return n_; }

    void fill_random(std::mt19937 &rng) {
        std::uniform_real_distribution<float> small(-1.0f, 1.0f);
        std::uniform_real_distribution<float> large(-100.0f, 100.0f);
        for (std::size_t i = 0; i < n_; ++i) a()[i] = small(rng);
        for (std::size_t i = 0; i < n_; ++i) b()[i] = large(rng);
    }

    void fill_zero() {
        std::fill(a(), a() + n_, 0.0f);
        std::fill(b(), b() + n_, 0.0f);
    }

  private:
    static constexpr std::size_t kPadding = 64;
    static constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();
    std::size_t n_;
    std::size_t stride_;  // floats from a's slot to b's, a multiple of 64 bytes
    std::vector<float> storage_;  // operator new aligns this to 16 bytes
};

class KernelVariantTest : public ::testing::TestWithParam<Variant> {
  protected:
    void SetUp() override {
        kernels_ = GetParam().available();
        if (kernels_ == nullptr) {
            GTEST_SKIP() << "this CPU lacks " << GetParam().required_feature << ": the "
                         << GetParam().name << " kernels are compiled in but were NOT tested";
        }
    }

    // Fresh random data per dimension, from a fixed seed so failures reproduce.
    template <typename Check>
    void for_each_dim(Check check) {
        std::mt19937 rng(20240615);
        for (std::size_t n : kDims) {
            SCOPED_TRACE("n = " + std::to_string(n));
            VectorPair vectors(n);
            vectors.fill_random(rng);
            check(vectors);
        }
    }

    const DistanceKernels *kernels_ = nullptr;
};

TEST_P(KernelVariantTest, NameMatchesVariant) { EXPECT_STREQ(kernels_->name, GetParam().name); }

TEST_P(KernelVariantTest, L2SquaredMatchesReference) {
    for_each_dim([&](VectorPair &v) {
        expect_close(kernels_->l2_squared(v.a(), v.b(), v.size()),
                     reference_l2_squared(v.a(), v.b(), v.size()));
    });
}

TEST_P(KernelVariantTest, InnerProductMatchesReference) {
    for_each_dim([&](VectorPair &v) {
        expect_close(kernels_->inner_product(v.a(), v.b(), v.size()),
                     reference_inner_product(v.a(), v.b(), v.size()));
    });
}

TEST_P(KernelVariantTest, L1MatchesReference) {
    for_each_dim([&](VectorPair &v) {
        expect_close(kernels_->l1(v.a(), v.b(), v.size()), reference_l1(v.a(), v.b(), v.size()));
    });
}

TEST_P(KernelVariantTest, NormSquaredMatchesReference) {
    for_each_dim([&](VectorPair &v) {
        expect_close(kernels_->norm_squared(v.b(), v.size()),
                     reference_inner_product(v.b(), v.b(), v.size()));
    });
}

TEST_P(KernelVariantTest, CosinePartsMatchReference) {
    for_each_dim([&](VectorPair &v) {
        const CosineParts parts = kernels_->cosine_parts(v.a(), v.b(), v.size());
        const Reference dot = reference_inner_product(v.a(), v.b(), v.size());
        const Reference norm_a = reference_inner_product(v.a(), v.a(), v.size());
        const Reference norm_b = reference_inner_product(v.b(), v.b(), v.size());
        expect_close(parts.dot, dot);
        expect_close(parts.norm_a_squared, norm_a);
        expect_close(parts.norm_b_squared, norm_b);

        const double expected_distance = 1.0 - dot.value / std::sqrt(norm_a.value * norm_b.value);
        EXPECT_NEAR(cosine_distance_from_parts(parts), expected_distance, 1e-5);
    });
}

// One nonzero element makes every result exact, so a lane that is dropped or counted twice at
// any position (head, unrolled body, single-vector loop or masked tail) shows up exactly.
TEST_P(KernelVariantTest, EveryPositionCountsOnce) {
    for (std::size_t n : kDims) {
        VectorPair v(n);
        v.fill_zero();
        std::vector<std::size_t> positions = {0, n / 2, n - 1};
        if (n <= 70) {
            positions.clear();
            for (std::size_t p = 0; p < n; ++p) positions.push_back(p);
        }
        for (std::size_t p : positions) {
            SCOPED_TRACE("n = " + std::to_string(n) + ", nonzero at " + std::to_string(p));
            v.a()[p] = 3.0f;
            v.b()[p] = -1.0f;
            EXPECT_EQ(kernels_->l2_squared(v.a(), v.b(), n), 16.0f);
            EXPECT_EQ(kernels_->inner_product(v.a(), v.b(), n), -3.0f);
            EXPECT_EQ(kernels_->l1(v.a(), v.b(), n), 4.0f);
            EXPECT_EQ(kernels_->norm_squared(v.a(), n), 9.0f);
            const CosineParts parts = kernels_->cosine_parts(v.a(), v.b(), n);
            EXPECT_EQ(parts.dot, -3.0f);
            EXPECT_EQ(parts.norm_a_squared, 9.0f);
            EXPECT_EQ(parts.norm_b_squared, 1.0f);
            v.a()[p] = 0.0f;
            v.b()[p] = 0.0f;
        }
    }
}

// A vector may end at the last byte of a mapped page. Its tail must not be read with a full
// vector load, which would touch the next page; here that page is inaccessible, so such a
// read crashes the test.
TEST_P(KernelVariantTest, ReadsNothingPastTheEnd) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void *mapping = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    ASSERT_NE(mapping, MAP_FAILED);
    char *guard = static_cast<char *>(mapping) + page;
    ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);

    for (std::size_t n = 1; n <= 100; ++n) {
        SCOPED_TRACE("n = " + std::to_string(n));
        float *end = reinterpret_cast<float *>(guard);
        float *a = end - n;  // both vectors end where the guard page begins
        float *b = end - n;
        std::fill(a, end, 1.0f);
        const float expected = static_cast<float>(n);
        EXPECT_EQ(kernels_->l2_squared(a, b, n), 0.0f);
        EXPECT_EQ(kernels_->inner_product(a, b, n), expected);
        EXPECT_EQ(kernels_->l1(a, b, n), 0.0f);
        EXPECT_EQ(kernels_->norm_squared(a, n), expected);
        EXPECT_EQ(kernels_->cosine_parts(a, b, n).dot, expected);
    }
    munmap(mapping, 2 * page);
}

TEST_P(KernelVariantTest, CosineOfZeroVectorIsNaN) {
    for (std::size_t n : kDims) {
        SCOPED_TRACE("n = " + std::to_string(n));
        VectorPair v(n);
        v.fill_zero();
        const auto cosine_distance = [&](const float *x, const float *y) {
            return cosine_distance_from_parts(kernels_->cosine_parts(x, y, n));
        };
        EXPECT_TRUE(std::isnan(cosine_distance(v.a(), v.b())));
        std::fill(v.b(), v.b() + n, 0.5f);
        EXPECT_TRUE(std::isnan(cosine_distance(v.a(), v.b())));
        EXPECT_TRUE(std::isnan(cosine_distance(v.b(), v.a())));
    }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, KernelVariantTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                             return std::string(info.param.name);
                         });

TEST(Dispatch, ChoosesTheFastestAvailableVariant) {
    const DistanceKernels *expected = avx512_kernels();
    if (expected == nullptr) expected = avx2_kernels();
    if (expected == nullptr) expected = &scalar_kernels();
    EXPECT_EQ(&kernels(), expected);
    std::cout << "[ INFO     ] kernels() chose " << kernels().name << "; AVX-512F kernels "
              << (avx512_kernels() ? "available" : "NOT available on this CPU, so untested")
              << '\n';
}

#if defined(__x86_64__) || defined(__i386__)
// Checked against the CPU's own feature bits, independently of how distance.cpp decides.
TEST(Dispatch, VariantAvailabilityFollowsCpuFeatures) {
    __builtin_cpu_init();
    const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool has_avx512 = __builtin_cpu_supports("avx512f");
    EXPECT_EQ(avx2_kernels() != nullptr, has_avx2);
    EXPECT_EQ(avx512_kernels() != nullptr, has_avx512);
    EXPECT_STREQ(kernels().name, has_avx512 ? "avx512" : has_avx2 ? "avx2" : "scalar");
}
#endif

TEST(CosineDistanceFromParts, FollowsTheAngle) {
    EXPECT_DOUBLE_EQ(cosine_distance_from_parts({2.0f, 4.0f, 1.0f}), 0.0);   // same direction
    EXPECT_DOUBLE_EQ(cosine_distance_from_parts({-2.0f, 4.0f, 1.0f}), 2.0);  // opposite
    EXPECT_DOUBLE_EQ(cosine_distance_from_parts({0.0f, 4.0f, 1.0f}), 1.0);   // orthogonal
    EXPECT_DOUBLE_EQ(cosine_distance_from_parts({1.0f, 4.0f, 1.0f}), 0.5);   // 60 degrees
}

TEST(CosineDistanceFromParts, ClampsRoundingPastParallel) {
    const float just_over_one = std::nextafter(1.0f, 2.0f);
    EXPECT_EQ(cosine_distance_from_parts({just_over_one, 1.0f, 1.0f}), 0.0);
    EXPECT_EQ(cosine_distance_from_parts({-just_over_one, 1.0f, 1.0f}), 2.0);
}

TEST(CosineDistanceFromParts, ZeroNormIsNaN) {
    EXPECT_TRUE(std::isnan(cosine_distance_from_parts({0.0f, 0.0f, 1.0f})));
    EXPECT_TRUE(std::isnan(cosine_distance_from_parts({0.0f, 1.0f, 0.0f})));
    EXPECT_TRUE(std::isnan(cosine_distance_from_parts({0.0f, 0.0f, 0.0f})));
}

TEST(CosineDistanceFromParts, SquaredNormsProductDoesNotOverflow) {
    // Each squared norm fits a float but their product does not; the double arithmetic copes.
    EXPECT_NEAR(cosine_distance_from_parts({1e30f, 1e30f, 1e30f}), 0.0, 1e-6);
}

}  // namespace
}  // namespace ann::core
