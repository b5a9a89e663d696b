// The ordered, memory-bounded result set of ivfflat scans: every row comes out exactly once,
// in (distance, id) order, whether one pass holds them all or many passes are needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "core/ivf_candidates.h"

namespace ann::core {
namespace {

using Row = std::pair<float, std::uint64_t>;

// Drains `candidates` the way the scan does: pop, and run another pass over `rows` whenever
// the previous one dropped rows.
std::vector<Row> drain(IvfCandidates &candidates, const std::vector<Row> &rows, int *passes)
{
    std::vector<Row> out;
    candidates.restart();
    auto pass = [&]() {
        candidates.begin_pass();
        for (const Row &row : rows)
            EXPECT_TRUE(candidates.offer(row.first, row.second));
        candidates.end_pass();
        ++*passes;
    };
    pass();
    for (;;) {
        float distance;
        std::uint64_t id;
        if (candidates.pop(&distance, &id)) {
            out.emplace_back(distance, id);
            continue;
        }
        if (!candidates.pass_dropped_rows())
            break;
        pass();
    }
    return out;
}

std::vector<Row> random_rows(std::size_t count, int distinct_distances, std::uint64_t seed)
{
    std::mt19937_64 random(seed);
    std::vector<Row> rows;
    for (std::size_t i = 0; i < count; ++i)
        rows.emplace_back(float(random() % distinct_distances) * 0.5f, (random() << 8) | i);
    return rows;
}

TEST(IvfCandidates, OnePassReturnsEverythingInOrder)
{
    const std::vector<Row> rows = random_rows(20000, 1000000, 1);
    IvfCandidates candidates;
    ASSERT_TRUE(candidates.init(system_memory_hooks(), 1u << 20));
    int passes = 0;
    const std::vector<Row> out = drain(candidates, rows, &passes);
    std::vector<Row> expected = rows;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(out, expected);
    EXPECT_EQ(passes, 1);
    candidates.release();
}

TEST(IvfCandidates, SmallBudgetTakesPassesButLosesNothing)
{
    // Many ties: the id must break them, or rows at a pass boundary would be lost or repeated.
    const std::vector<Row> rows = random_rows(5000, 20, 2);
    IvfCandidates candidates;
    ASSERT_TRUE(candidates.init(system_memory_hooks(), 700));
    int passes = 0;
    const std::vector<Row> out = drain(candidates, rows, &passes);
    std::vector<Row> expected = rows;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(out, expected);
    EXPECT_EQ(passes, 8);  // ceil(5000 / 700)
    candidates.release();
}

TEST(IvfCandidates, RestartForgetsTheLastQuery)
{
    IvfCandidates candidates;
    ASSERT_TRUE(candidates.init(system_memory_hooks(), 3));
    int passes = 0;
    const std::vector<Row> first = drain(candidates, random_rows(10, 5, 3), &passes);
    EXPECT_EQ(first.size(), 10u);
    const std::vector<Row> second = drain(candidates, {{0.0f, 1}, {-1.0f, 2}}, &passes);
    EXPECT_EQ(second, (std::vector<Row>{{-1.0f, 2}, {0.0f, 1}}));
    candidates.release();
}

}  // namespace
}  // namespace ann::core
