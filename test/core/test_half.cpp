// Half-precision rows: the conversions, each variant's encoder and half kernels against the
// scalar conversion and a double-precision reference, and which vectors get a half row.
#include "core/half.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/distance.h"

namespace ann::core {
namespace {

TEST(FloatToHalf, KnownValues) {
    EXPECT_EQ(float_to_half(0.0f), 0x0000);
    EXPECT_EQ(float_to_half(-0.0f), 0x8000);
    EXPECT_EQ(float_to_half(1.0f), 0x3C00);
    EXPECT_EQ(float_to_half(-2.0f), 0xC000);
    EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);
    EXPECT_EQ(float_to_half(65519.0f), 0x7BFF);  // rounds down to the largest half
    EXPECT_EQ(float_to_half(65520.0f), 0x7C00);  // the tie rounds to even: infinity
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie to even: zero
    EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // tie to even: two
    EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even
    EXPECT_EQ(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3C02);
    EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
    EXPECT_EQ(float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7E00, 0x7E00);
}

TEST(FloatToHalf, EveryHalfRoundTrips) {
    for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
        const auto half = static_cast<Half>(bits);
        if ((half & 0x7C00) == 0x7C00 && (half & 0x03FF) != 0) continue;  // NaN
        ASSERT_EQ(float_to_half(half_to_float(half)), half) << "half " << bits;
    }
}

TEST(FloatToHalf, RoundsToNearest) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> exponent(-26.0f, 15.99f);  // below 65504
    for (int i = 0; i < 100000; ++i) {
        const float value = std::exp2(exponent(rng)) * (i % 2 ? -1.0f : 1.0f);
        const float rounded = half_to_float(float_to_half(value));
        const float spacing = std::ldexp(1.0f, std::max(-24, std::ilogb(value) - 10));
        ASSERT_LE(std::fabs(rounded - value), spacing / 2) << value;
    }
}

struct Variant {
    const char *name;
    const DistanceKernels *kernels;
};

std::vector<Variant> available_variants() {
    std::vector<Variant> variants = {{"scalar", &scalar_kernels()}};
    if (avx2_kernels() != nullptr) variants.push_back({"avx2", avx2_kernels()});
    if (avx512_kernels() != nullptr) variants.push_back({"avx512", avx512_kernels()});
    return variants;
}

// Values spread over the whole half range, subnormals and overflow included.
std::vector<float> wide_values(std::mt19937 &rng, std::size_t n) {
    std::uniform_real_distribution<float> exponent(-27.0f, 17.0f);
    std::vector<float> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = std::exp2(exponent(rng)) * (i % 3 ? 1.0f : -1.0f);
    return values;
}

TEST(HalfKernels, EveryEncoderGivesTheScalarBits) {
    std::mt19937 rng(11);
    for (const Variant &variant : available_variants()) {
        for (std::size_t n = 1; n <= 70; ++n) {
            SCOPED_TRACE(std::string(variant.name) + ", n = " + std::to_string(n));
            const std::vector<float> values = wide_values(rng, n);
            std::vector<Half> out(n + 1, 0xABCD);
            variant.kernels->encode_half(values.data(), out.data(), n);
            for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], float_to_half(values[i])) << values[i];
            EXPECT_EQ(out[n], 0xABCD) << "wrote past n";
        }
    }
}

// Each variant's half distance equals the float kernel's on the decoded row, within float
// rounding of the sums, at every length around the unroll boundaries.
TEST(HalfKernels, MatchTheDecodedRow) {
    std::mt19937 rng(13);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    for (const Variant &variant : available_variants()) {
        for (std::size_t n : {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 33, 63, 65, 100, 768, 1536}) {
            SCOPED_TRACE(std::string(variant.name) + ", n = " + std::to_string(n));
            std::vector<float> query(n), vector(n);
            for (std::size_t i = 0; i < n; ++i) {
                query[i] = uniform(rng);
                vector[i] = uniform(rng);
            }
            std::vector<Half> row(half_row_length(n));
            ASSERT_TRUE(encode_half_row(vector.data(), n, row.data()));
            double l2 = 0, ip = 0, l1 = 0, magnitude = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double decoded = half_to_float(row[i]);
                EXPECT_LE(std::fabs(decoded - vector[i]), std::ldexp(1.0, -11) * 2);
                l2 += (query[i] - decoded) * (query[i] - decoded);
                ip += query[i] * decoded;
                l1 += std::fabs(query[i] - decoded);
                magnitude += std::fabs(query[i] * decoded) + (query[i] - decoded) * (query[i] - decoded);
            }
            const double tolerance = 1e-5 * (magnitude + 1.0);
            EXPECT_NEAR(variant.kernels->l2_squared_half(query.data(), row.data(), n), l2, tolerance);
            EXPECT_NEAR(variant.kernels->inner_product_half(query.data(), row.data(), n), ip, tolerance);
            EXPECT_NEAR(variant.kernels->l1_half(query.data(), row.data(), n), l1, tolerance);
        }
    }
}

// A half row may end at the last byte of a mapped page; no kernel may read past its padding.
// Here the next page is inaccessible, so such a read crashes the test.
TEST(HalfKernels, ReadNothingPastThePaddedRow) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void *mapping = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mapping, MAP_FAILED);
    char *guard = static_cast<char *>(mapping) + page;
    ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);
    for (const Variant &variant : available_variants()) {
        for (std::size_t n = 1; n <= 100; ++n) {
            SCOPED_TRACE(std::string(variant.name) + ", n = " + std::to_string(n));
            Half *row = reinterpret_cast<Half *>(guard) - half_row_length(n);
            const std::vector<float> ones(n, 1.0f);
            ASSERT_TRUE(encode_half_row(ones.data(), n, row));
            const float count = static_cast<float>(n);
            EXPECT_EQ(variant.kernels->inner_product_half(ones.data(), row, n), count);
            EXPECT_EQ(variant.kernels->l2_squared_half(ones.data(), row, n), 0.0f);
            EXPECT_EQ(variant.kernels->l1_half(ones.data(), row, n), 0.0f);
        }
    }
    munmap(mapping, 2 * page);
}

TEST(EncodeHalfRow, PadsWithZeros) {
    const std::vector<float> vector = {1.0f, -0.5f, 0.25f};
    std::vector<Half> row(half_row_length(vector.size()), 0xFFFF);
    ASSERT_EQ(row.size(), 8u);
    ASSERT_TRUE(encode_half_row(vector.data(), vector.size(), row.data()));
    EXPECT_EQ(row[0], 0x3C00);
    for (std::size_t i = 3; i < row.size(); ++i) EXPECT_EQ(row[i], 0) << i;
}

TEST(EncodeHalfRow, RefusesVectorsHalvesWouldRankPoorly) {
    std::vector<Half> row(8);
    const std::vector<float> too_large = {1.0f, 70000.0f};
    const std::vector<float> too_small = {1e-6f, -3e-6f};
    const std::vector<float> zero = {0.0f, 0.0f};
    const std::vector<float> largest = {65504.0f, 1e-6f};
    EXPECT_FALSE(encode_half_row(too_large.data(), 2, row.data()));
    EXPECT_FALSE(encode_half_row(too_small.data(), 2, row.data()));
    EXPECT_TRUE(encode_half_row(zero.data(), 2, row.data()));
    EXPECT_TRUE(encode_half_row(largest.data(), 2, row.data()));
}

}  // namespace
}  // namespace ann::core
