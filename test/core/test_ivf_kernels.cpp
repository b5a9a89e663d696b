// The batched inner products of ivfflat against a double-precision reference, for
// dimensions around every multiple of the SIMD width and row counts around the 4-row block.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/ivf_kernels.h"

namespace ann::core {
namespace {

TEST(IvfKernels, InnerProductsMatchReference)
{
    std::mt19937_64 random(5);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    for (std::size_t dim : {1u, 3u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 128u, 301u}) {
        for (std::size_t count : {1u, 3u, 4u, 5u, 9u, 64u}) {
            std::vector<float> x(dim), rows(count * dim), out(count, -1.0f);
            for (float &v : x)
                v = uniform(random);
            for (float &v : rows)
                v = uniform(random);
            inner_products(x.data(), rows.data(), count, dim, out.data());
            for (std::size_t j = 0; j < count; ++j) {
                double reference = 0, magnitude = 0;
                for (std::size_t i = 0; i < dim; ++i) {
                    reference += double(x[i]) * rows[j * dim + i];
                    magnitude += std::fabs(double(x[i]) * rows[j * dim + i]);
                }
                EXPECT_NEAR(out[j], reference, 1e-5 * (1 + magnitude)) << "dim " << dim << " count " << count << " row " << j;
            }
        }
    }
}

// A row's product is the same to the bit wherever it lies: in a four-row block or in the
// tail after the last one (a multi-pass ivfflat scan compares exact distances across passes,
// in which a concurrent insert may have moved a row from one to the other).
TEST(IvfKernels, InnerProductDoesNotDependOnTheRowsPosition)
{
    std::mt19937_64 random(9);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    for (std::size_t dim : {3u, 8u, 17u, 100u, 301u}) {
        std::vector<float> x(dim), rows(5 * dim), out(5);
        for (int trial = 0; trial < 20; ++trial) {
            for (float &v : x)
                v = uniform(random);
            for (std::size_t i = 0; i < 4 * dim; ++i)
                rows[i] = uniform(random);
            for (std::size_t i = 0; i < dim; ++i)
                rows[4 * dim + i] = rows[i];  // row 4 (the tail) is row 0 (in the block)
            inner_products(x.data(), rows.data(), 5, dim, out.data());
            EXPECT_EQ(out[4], out[0]) << "dim " << dim << " trial " << trial;
        }
    }
}

}  // namespace
}  // namespace ann::core
