// Unit tests of the HNSW building blocks: candidate pool, visited sets, neighbour selection,
// node levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/filtered_search.h"
#include "core/hnsw_graph.h"
#include "core/hnsw_search.h"
#include "core/hnsw_select.h"
#include "core/spill_heap.h"
#include "core/top_k.h"
#include "core/visited_set.h"

namespace ann::core {
namespace {

// `count` points of the line segment [-1, 1]: their distances to a point sort trivially.
std::vector<float> points_on_a_line(std::size_t count, unsigned seed)
{
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> coordinate(-1.0f, 1.0f);
    std::vector<float> point(count);
    for (float &p : point)
        p = coordinate(random);
    return point;
}

// The distances of `point` to `query`, ascending.
std::vector<float> sorted_distances(const std::vector<float> &point, float query)
{
    std::vector<float> sorted;
    for (const float p : point)
        sorted.push_back(std::fabs(p - query));
    std::sort(sorted.begin(), sorted.end());
    return sorted;
}

TEST(CandidatePool, KeepsNearestWidthSortedAndPopsNearestUnexpanded)
{
    CandidatePool<std::uint32_t> pool;
    ASSERT_EQ(pool.init(system_memory_hooks(), 8), HnswStatus::ok);
    pool.clear(3);
    EXPECT_TRUE(pool.insert(10, 5.0f));
    EXPECT_TRUE(pool.insert(11, 1.0f));
    EXPECT_TRUE(pool.insert(12, 3.0f));
    EXPECT_FALSE(pool.insert(13, 5.0f));  // full, and not nearer than the farthest
    EXPECT_TRUE(pool.insert(14, 2.0f));   // evicts 10
    ASSERT_EQ(pool.size(), 3u);
    EXPECT_EQ(pool.id(0), 11u);
    EXPECT_EQ(pool.id(1), 14u);
    EXPECT_EQ(pool.id(2), 12u);

    std::uint32_t id;
    ASSERT_TRUE(pool.pop_nearest_unexpanded(&id));
    EXPECT_EQ(id, 11u);
    ASSERT_TRUE(pool.pop_nearest_unexpanded(&id));
    EXPECT_EQ(id, 14u);
    EXPECT_TRUE(pool.insert(15, 0.5f));  // nearer than everything expanded: popped next
    ASSERT_TRUE(pool.pop_nearest_unexpanded(&id));
    EXPECT_EQ(id, 15u);
    EXPECT_FALSE(pool.pop_nearest_unexpanded(&id));  // 12 was evicted by 15
    EXPECT_EQ(pool.admission_bound(), 2.0f);

    pool.restart(2);  // seeds of the next layer: the nearest two, unexpanded again
    ASSERT_TRUE(pool.pop_nearest_unexpanded(&id));
    EXPECT_EQ(id, 15u);
    ASSERT_TRUE(pool.pop_nearest_unexpanded(&id));
    EXPECT_EQ(id, 11u);
    EXPECT_FALSE(pool.pop_nearest_unexpanded(&id));
    pool.release();
}

TEST(CandidatePool, TiesKeepArrivalOrderAndNaNIsRefused)
{
    CandidatePool<std::uint64_t> pool;
    ASSERT_EQ(pool.init(system_memory_hooks(), 4), HnswStatus::ok);
    pool.clear(4);
    for (std::uint64_t id = 1; id <= 4; ++id)
        EXPECT_TRUE(pool.insert(id << 40, 1.0f));
    EXPECT_FALSE(pool.insert(99, 1.0f));
    EXPECT_FALSE(pool.insert(98, std::nanf("")));
    for (std::uint32_t i = 0; i < 4; ++i)
        EXPECT_EQ(pool.id(i), std::uint64_t(i + 1) << 40);
    pool.release();
}

TEST(DenseVisitedSet, MarksOncePerEpochAcrossWraparound)
{
    DenseVisitedSet visited;
    ASSERT_EQ(visited.init(system_memory_hooks(), 100), HnswStatus::ok);
    for (int epoch = 0; epoch < 70000; ++epoch) {
        visited.reset();
        ASSERT_TRUE(visited.mark(std::uint32_t(epoch % 100)));
        ASSERT_FALSE(visited.mark(std::uint32_t(epoch % 100)));
        ASSERT_TRUE(visited.mark(std::uint32_t((epoch + 1) % 100)));
    }
    visited.release();
}

std::uint64_t item_pointer(std::uint64_t block, std::uint64_t offset) { return block << 16 | offset; }

TEST(SpillHeap, PopsNearestFirstAcrossGrowth)
{
    SpillHeap<std::uint64_t> heap;
    heap.init(system_memory_hooks());
    std::mt19937 random(3);
    std::uniform_real_distribution<float> distance(0.0f, 100.0f);
    std::vector<float> pushed;
    for (std::uint64_t id = 0; id < 5000; ++id) {
        pushed.push_back(distance(random));
        ASSERT_TRUE(heap.push(id, pushed.back()));
    }
    std::sort(pushed.begin(), pushed.end());
    std::uint64_t id;
    float popped;
    for (float expected : pushed) {
        ASSERT_TRUE(heap.pop(&id, &popped));
        EXPECT_EQ(popped, expected);
    }
    EXPECT_FALSE(heap.pop(&id, &popped));
    heap.release();
}

TEST(SearchState, RunnersUpAreTheNearestNodesAfterTheResults)
{
    // A complete graph on points of a line, searched twice: the runners-up of a search are
    // exactly the nodes ranked ef+1 .. ef+width, nearest first, and a new start forgets them.
    constexpr std::uint32_t kCount = 200;
    constexpr std::uint32_t kEf = 12;
    constexpr std::uint32_t kRunnersUp = 20;
    const std::vector<float> point = points_on_a_line(kCount, 9);
    BuildSearchState search;
    CandidatePool<std::uint32_t> runners_up;
    ASSERT_EQ(search.init(system_memory_hooks(), kEf, kCount), HnswStatus::ok);
    ASSERT_EQ(runners_up.init(system_memory_hooks(), kRunnersUp), HnswStatus::ok);
    search.keep_runners_up(&runners_up);
    for (const float query : {0.3f, -0.8f}) {
        auto distance = [&](std::uint32_t id) { return std::fabs(point[id] - query); };
        const std::vector<float> sorted = sorted_distances(point, query);
        ASSERT_EQ(search.start(kCount - 1, distance(kCount - 1), 0, kEf), HnswStatus::ok);
        std::uint32_t node;
        while (search.pop_candidate(&node)) {
            for (std::uint32_t next = 0; next < kCount; ++next) {
                if (search.mark_visited(next))
                    search.offer(next, distance(next));
            }
        }
        ASSERT_EQ(search.result_count(), kEf);
        ASSERT_EQ(runners_up.size(), kRunnersUp);
        for (std::uint32_t i = 0; i < kRunnersUp; ++i) {
            EXPECT_EQ(runners_up.distance(i), sorted[kEf + i]) << "query " << query << ", runner-up " << i;
            EXPECT_EQ(distance(runners_up.id(i)), runners_up.distance(i));
        }
    }
    search.release();
    runners_up.release();
}

TEST(ScanSearchState, ResumedSearchHandsOutEveryNodeOnceInBatchesOfEf)
{
    // A complete graph on points of a line: each batch is then exactly the next ef nearest,
    // and resuming until nothing is left returns every node once.
    constexpr std::uint64_t kCount = 300;
    constexpr std::uint32_t kEf = 16;
    const std::vector<float> point = points_on_a_line(kCount, 5);
    const float query = 0.25f;
    auto distance = [&](std::uint64_t id) { return std::fabs(point[id] - query); };
    const std::vector<float> sorted = sorted_distances(point, query);

    ScanSearchState search;
    SpillHeap<std::uint64_t> spill;
    spill.init(system_memory_hooks());
    ASSERT_EQ(search.init(system_memory_hooks(), kEf, 64), HnswStatus::ok);
    search.spill_into(&spill);
    ASSERT_EQ(search.start(0, distance(0), 0, kEf), HnswStatus::ok);
    std::vector<bool> returned(kCount, false);
    std::uint64_t total = 0;
    bool more = true;
    for (int batch = 0; more; ++batch) {
        std::uint64_t node;
        while (search.pop_candidate(&node)) {
            for (std::uint64_t next = 0; next < kCount; ++next) {
                if (search.mark_visited(next))
                    search.offer(next, distance(next));
            }
        }
        for (std::uint32_t i = 0; i < search.result_count(); ++i) {
            const std::uint64_t id = search.result_id(i);
            ASSERT_FALSE(returned[id]) << "node " << id << " returned twice";
            returned[id] = true;
            EXPECT_EQ(search.result_distance(i), sorted[total]) << "batch " << batch << ", result " << i;
            ++total;
        }
        more = search.resume(kEf);
    }
    EXPECT_EQ(total, kCount);
    EXPECT_EQ(search.visits(), kCount);
    EXPECT_TRUE(search.spill_complete());
    search.release();
    spill.release();
}

// A complete graph on points of a line and a filter passing one node in seven: an
// unfiltered search, then filtered batches of kWidth until one comes back empty. Checks what
// must hold for any distance limit: each batch is exactly the next nearest passing nodes
// within the limit, and none comes twice or lies beyond the limit.
struct FilteredBatches {
    std::size_t passing_within_limit = 0;
    std::size_t returned = 0;
    std::size_t popped_beyond_limit = 0;
    std::uint64_t visits = 0;
};

constexpr std::uint32_t kFilteredEf = 8;

FilteredBatches run_filtered_batches(float distance_limit)
{
    constexpr std::uint64_t kCount = 300;
    constexpr std::uint32_t kEf = kFilteredEf;
    constexpr std::uint32_t kWidth = 5;
    std::mt19937 random(11);
    std::uniform_real_distribution<float> coordinate(-1.0f, 1.0f);
    std::vector<float> point(kCount);
    for (float &p : point)
        p = coordinate(random);
    const float query = -0.4f;
    auto distance = [&](std::uint64_t id) { return std::fabs(point[id] - query); };
    auto passes = [](std::uint64_t id) { return id % 7 == 3; };
    std::vector<float> passing_sorted;
    for (std::uint64_t id = 0; id < kCount; ++id) {
        if (passes(id) && distance(id) <= distance_limit)
            passing_sorted.push_back(distance(id));
    }
    std::sort(passing_sorted.begin(), passing_sorted.end());

    ScanSearchState search;
    SpillHeap<std::uint64_t> frontier;
    ScanFilteredSearch filtered;
    frontier.init(system_memory_hooks());
    EXPECT_EQ(search.init(system_memory_hooks(), kEf, 64), HnswStatus::ok);
    EXPECT_EQ(filtered.init(system_memory_hooks(), kWidth), HnswStatus::ok);
    search.spill_into(&frontier);
    EXPECT_EQ(search.start(0, distance(0), 0, kEf), HnswStatus::ok);
    auto expand = [&](auto &state) {
        for (std::uint64_t next = 0; next < kCount; ++next) {
            if (state.mark_visited(next))
                state.offer(next, distance(next));
        }
    };
    std::uint64_t node;
    while (search.pop_candidate(&node))
        expand(search);

    filtered.attach(&search, &frontier);
    if (distance_limit < std::numeric_limits<float>::infinity())
        filtered.limit_distance(distance_limit, kEf);
    std::vector<bool> returned(kCount, false);
    FilteredBatches result;
    result.passing_within_limit = passing_sorted.size();
    for (int batch = 0;; ++batch) {
        EXPECT_EQ(filtered.begin_batch(kWidth), HnswStatus::ok);
        if (batch == 0) {
            for (std::uint32_t i = 0; i < search.result_count(); ++i) {
                if (filtered.within_limit(search.result_distance(i)) && passes(search.result_id(i)))
                    filtered.accept(search.result_id(i), search.result_distance(i));
            }
        }
        float popped_distance;
        while (filtered.pop(&node, &popped_distance)) {
            EXPECT_EQ(popped_distance, distance(node));
            if (popped_distance > distance_limit)
                ++result.popped_beyond_limit;
            if (filtered.within_limit(popped_distance) && passes(node))
                filtered.accept(node, popped_distance);
            expand(filtered);
        }
        if (filtered.result_count() == 0)
            break;
        for (std::uint32_t i = 0; i < filtered.result_count(); ++i) {
            const std::uint64_t id = filtered.result_id(i);
            EXPECT_TRUE(passes(id));
            EXPECT_FALSE(returned[id]) << "node " << id << " returned twice";
            returned[id] = true;
            if (result.returned < passing_sorted.size()) {
                EXPECT_EQ(filtered.result_distance(i), passing_sorted[result.returned])
                    << "batch " << batch << ", result " << i;
            }
            ++result.returned;
        }
    }
    EXPECT_TRUE(filtered.frontier_complete());
    result.visits = filtered.visits();
    filtered.release();
    search.release();
    frontier.release();
    return result;
}

TEST(FilteredSearch, BatchesAreTheNextNearestPassingNodesAndNoneComesTwice)
{
    const FilteredBatches batches = run_filtered_batches(std::numeric_limits<float>::infinity());
    EXPECT_EQ(batches.returned, batches.passing_within_limit);
    EXPECT_EQ(batches.visits, 300u);
}

TEST(FilteredSearch, DistanceLimitEndsTheBatchesAtTheLimit)
{
    // Query -0.4 on [-1, 1]: about a third of the passing nodes lie within 0.3. Beyond it
    // the search expands a margin of kEf nodes (those the first search ranked there count),
    // then stops instead of popping the rest of the graph.
    const FilteredBatches batches = run_filtered_batches(0.3f);
    EXPECT_GT(batches.passing_within_limit, 5u);
    EXPECT_EQ(batches.returned, batches.passing_within_limit);
    EXPECT_LE(batches.popped_beyond_limit, kFilteredEf);
}

TEST(HashVisitedSet, GrowsAndForgetsOnReset)
{
    HashVisitedSet visited;
    ASSERT_EQ(visited.init(system_memory_hooks(), 16), HnswStatus::ok);
    const std::size_t initial_slots = visited.slot_count();
    for (std::uint64_t block = 0; block < 1000; ++block)
        for (std::uint64_t offset = 1; offset <= 5; ++offset)
            ASSERT_TRUE(visited.mark(item_pointer(block, offset)));
    EXPECT_GT(visited.slot_count(), initial_slots);
    for (std::uint64_t block = 0; block < 1000; ++block)
        for (std::uint64_t offset = 1; offset <= 5; ++offset)
            ASSERT_FALSE(visited.mark(item_pointer(block, offset)));
    EXPECT_FALSE(visited.overflowed());
    for (int epoch = 0; epoch < 70000; ++epoch) {  // crosses the 16-bit epoch wraparound
        visited.reset();
        ASSERT_TRUE(visited.mark(item_pointer(7, 3)));
        ASSERT_FALSE(visited.mark(item_pointer(7, 3)));
    }
    visited.mark(HashVisitedSet::kMaxId);
    EXPECT_FALSE(visited.mark(HashVisitedSet::kMaxId));
    visited.release();
}

TEST(HashVisitedSet, FullTableWithoutMemoryStaysCorrectAndReportsOverflow)
{
    struct Budget {
        int allocations_left = 1;
    } budget;
    const MemoryHooks stingy{
        &budget,
        [](void *context, std::size_t bytes) noexcept -> void * {
            auto *b = static_cast<Budget *>(context);
            return b->allocations_left-- > 0 ? std::malloc(bytes) : nullptr;
        },
        [](void *, void *memory) noexcept { std::free(memory); },
    };
    HashVisitedSet visited;
    ASSERT_EQ(visited.init(stingy, 16), HnswStatus::ok);
    const std::size_t slots = visited.slot_count();
    std::uint64_t accepted = 0;
    for (std::uint64_t id = 1; id <= slots; ++id)
        accepted += visited.mark(id) ? 1 : 0;
    EXPECT_EQ(accepted, slots - slots / 8);
    EXPECT_TRUE(visited.overflowed());
    for (std::uint64_t id = 1; id <= accepted; ++id)
        EXPECT_FALSE(visited.mark(id));
    visited.release();
}

TEST(SelectNeighbours, KeepsDiverseCandidatesThenFillsWithNearestPruned)
{
    // Points on a line, base at 0: 1 is kept; -1.5 points the other way and is kept; 2 and
    // 3 are nearer to 1 than to the base and pruned; the last slot goes to the nearer, 2.
    const std::vector<float> position = {1.0f, -1.5f, 2.0f, 3.0f};
    std::vector<std::uint32_t> selected(4);
    const std::uint32_t kept = select_neighbours(
        4, 3, [&](std::uint32_t i) { return std::fabs(position[i]); },
        [&](std::uint32_t i, std::uint32_t j) { return std::fabs(position[i] - position[j]); },
        [](std::uint32_t) { return false; }, selected.data());
    ASSERT_EQ(kept, 3u);
    EXPECT_EQ(selected[0], 0u);
    EXPECT_EQ(selected[1], 1u);
    EXPECT_EQ(selected[2], 2u);
}

TEST(SelectNeighbours, PrunedFillersMergeInAscendingOrderAroundLaterKeptOnes)
{
    // Base at 0: 1.0 and -1.2 are diverse; 1.1, 1.3 and -1.4 are pruned. With room for one
    // filler it is 1.1 (index 1), which sorts before the kept -1.2 (index 2).
    const std::vector<float> position = {1.0f, 1.1f, -1.2f, 1.3f, -1.4f};
    auto to_base = [&](std::uint32_t i) { return std::fabs(position[i]); };
    auto between = [&](std::uint32_t i, std::uint32_t j) { return std::fabs(position[i] - position[j]); };
    auto never = [](std::uint32_t) { return false; };
    std::vector<std::uint32_t> selected(5);
    ASSERT_EQ(select_neighbours(5, 3, to_base, between, never, selected.data()), 3u);
    EXPECT_EQ(selected[0], 0u);
    EXPECT_EQ(selected[1], 1u);
    EXPECT_EQ(selected[2], 2u);
    ASSERT_EQ(select_neighbours(5, 4, to_base, between, never, selected.data()), 4u);
    EXPECT_EQ(selected[3], 3u);
}

TEST(SelectNeighbours, DuplicatesOfBaseAreBudgetedAndPruneNothing)
{
    // Five copies of the base (distance 0) then two distinct points in opposite directions.
    const std::vector<float> position = {0, 0, 0, 0, 0, 1.0f, -1.0f};
    std::vector<std::uint32_t> selected(7);
    const std::uint32_t kept = select_neighbours(
        7, 6, [&](std::uint32_t i) { return std::fabs(position[i]); },
        [&](std::uint32_t i, std::uint32_t j) { return std::fabs(position[i] - position[j]); },
        [&](std::uint32_t i) { return position[i] == 0; }, selected.data());
    ASSERT_EQ(kept, kDuplicateLinkBudget + 2);
    EXPECT_EQ(selected[kept - 2], 5u);
    EXPECT_EQ(selected[kept - 1], 6u);
}

TEST(SelectNeighbours, AnglesKeepDirectionsALongVectorWouldPruneUnderInnerProduct)
{
    // Base (1, 0); candidates sorted by negative inner product with it: a long vector 6
    // degrees up, a shorter one in the same direction, and one 80 degrees down. The long
    // vector's inner product with the last (43) beats the base's (1), so the negative inner
    // product as the diversity distance prunes it too, and the second slot goes to the
    // nearest pruned candidate, the parallel one; the angles keep the downward one (86
    // degrees from the long vector, 80 from the base) and prune only the parallel one.
    const float base[2] = {1, 0};
    const std::vector<std::vector<float>> candidate = {{100, 10}, {50, 5.1f}, {1, -5.67f}};
    auto dot = [](const float *a, const float *b) { return a[0] * b[0] + a[1] * b[1]; };
    auto never = [](std::uint32_t) { return false; };
    std::vector<std::uint32_t> selected(3);
    const std::uint32_t by_inner_product = select_neighbours(
        3, 2, [&](std::uint32_t i) { return -dot(base, candidate[i].data()); },
        [&](std::uint32_t i, std::uint32_t j) { return -dot(candidate[i].data(), candidate[j].data()); },
        never, selected.data());
    ASSERT_EQ(by_inner_product, 2u);
    EXPECT_EQ(selected[0], 0u);
    EXPECT_EQ(selected[1], 1u);
    const std::uint32_t by_angle = select_neighbours(
        3, 2, [&](std::uint32_t i) { return angular_distance(base, candidate[i].data(), 2); },
        [&](std::uint32_t i, std::uint32_t j) {
            return angular_distance(candidate[i].data(), candidate[j].data(), 2);
        },
        never, selected.data());
    ASSERT_EQ(by_angle, 2u);
    EXPECT_EQ(selected[0], 0u);
    EXPECT_EQ(selected[1], 2u);
}

// A link list as the build keeps it: points in the plane around a base at the origin,
// sorted nearest first, some exact copies of the base, with their diversity tags.
struct TaggedList {
    std::vector<std::array<float, 2>> point;
    std::vector<std::uint16_t> tags;

    static float norm(const std::array<float, 2> &p) { return std::hypot(p[0], p[1]); }
    float to_base(std::uint32_t i) const { return norm(point[i]); }
    float between(std::uint32_t i, std::uint32_t j) const
    {
        return std::hypot(point[i][0] - point[j][0], point[i][1] - point[j][1]);
    }
    bool is_duplicate(std::uint32_t i) const { return to_base(i) == 0.0f; }

    void update()
    {
        std::vector<std::uint16_t> scratch(point.size());
        update_diversity_tags(
            std::uint32_t(point.size()), [&](std::uint32_t i) { return to_base(i); },
            [&](std::uint32_t i, std::uint32_t j) { return between(i, j); },
            [&](std::uint32_t i) { return is_duplicate(i); }, tags.data(), scratch.data());
    }

    // Inserts after the points at most as far from the base; the tags shift along.
    std::uint32_t insert(const std::array<float, 2> &p)
    {
        std::uint32_t at = 0;
        while (at < point.size() && to_base(at) <= norm(p))
            ++at;
        point.insert(point.begin() + at, p);
        for (std::uint32_t i = 0; i < tags.size(); ++i) {
            const std::uint16_t tag = tags[i] & ~kDuplicateTag;
            tags[i] = std::uint16_t(tag == i ? (i < at ? i : i + 1) : tag < at ? tag : tag + 1);
        }
        tags.insert(tags.begin() + at, kUnknownTag);
        return at;
    }

    // Removes candidate `gone`: the tags it witnessed become unknown.
    void remove(std::uint32_t gone)
    {
        point.erase(point.begin() + gone);
        tags.erase(tags.begin() + gone);
        for (std::uint32_t i = 0; i < tags.size(); ++i) {
            const std::uint16_t tag = tags[i] & ~kDuplicateTag;
            const std::uint32_t was = i < gone ? i : i + 1;
            tags[i] = tag == was ? std::uint16_t(i) : tag == gone ? kUnknownTag : tag < gone ? tag : std::uint16_t(tag - 1);
        }
    }
};

TEST(SelectNeighbours, TagsKeptUpToDateMatchAFreshDiversityTest)
{
    // Lists that take new candidates, lose the one a full selection leaves out, and now and
    // then lose a kept candidate instead (as the build does to keep a node's last link in):
    // the updated tags give every candidate the verdict a fresh test does, with a witness
    // that really prunes it, and the candidate they drop is the one select_neighbours drops.
    std::mt19937 random(7);
    std::uniform_real_distribution<float> coordinate(-1.0f, 1.0f);
    std::uniform_int_distribution<int> percent(0, 99);
    int compared = 0;
    for (int round = 0; round < 200; ++round) {
        const std::uint32_t limit = 2 + round % 31;
        TaggedList list;
        for (int step = 0; step < 60; ++step) {
            std::array<float, 2> p{coordinate(random), coordinate(random)};
            const int roll = percent(random);
            if (roll < 3)
                p = {0, 0};  // a copy of the base
            else if (roll < 8 && !list.point.empty())
                p = list.point[std::uniform_int_distribution<std::size_t>(0, list.point.size() - 1)(random)];
            else if (roll < 12 && !list.point.empty())  // as far from the base as another
                p = {-list.point.back()[1], list.point.back()[0]};
            list.insert(p);
            list.update();

            TaggedList fresh = list;
            std::fill(fresh.tags.begin(), fresh.tags.end(), kUnknownTag);
            fresh.update();
            const std::uint32_t count = std::uint32_t(list.point.size());
            for (std::uint32_t i = 0; i < count; ++i) {
                ASSERT_EQ(kept_by_tag(list.tags.data(), i), kept_by_tag(fresh.tags.data(), i))
                    << "round " << round << " step " << step << " candidate " << i;
                ASSERT_EQ(list.tags[i] & kDuplicateTag, fresh.tags[i] & kDuplicateTag);
                const std::uint16_t witness = list.tags[i];
                if (!kept_by_tag(list.tags.data(), i)) {
                    ASSERT_LT(witness, i);
                    ASSERT_EQ(list.tags[witness], witness);
                    ASSERT_LT(list.between(i, witness), list.to_base(i));
                }
            }
            if (count <= limit)
                continue;

            const std::uint32_t drop = tagged_candidate_to_drop(count, list.tags.data());
            std::vector<std::uint32_t> selected(count);
            const std::uint32_t kept = select_neighbours(
                count, limit, [&](std::uint32_t i) { return list.to_base(i); },
                [&](std::uint32_t i, std::uint32_t j) { return list.between(i, j); },
                [&](std::uint32_t i) { return list.is_duplicate(i); }, selected.data());
            std::vector<bool> chosen(count, false);
            for (std::uint32_t k = 0; k < kept; ++k)
                chosen[selected[k]] = true;
            if (drop == count) {  // more copies than their budget: the full selection decides
                for (std::uint32_t i = count; i-- > 0;) {
                    if (!chosen[i])
                        list.remove(i);
                }
            } else {
                ASSERT_EQ(kept, limit) << "round " << round << " step " << step;
                ASSERT_FALSE(chosen[drop]) << "round " << round << " step " << step;
                ++compared;
                std::uint32_t gone = drop;
                if (percent(random) < 10) {
                    for (std::uint32_t i = count; i-- > 0;) {
                        if (list.tags[i] == i) {
                            gone = i;
                            break;
                        }
                    }
                }
                list.remove(gone);
            }
            list.update();
        }
    }
    EXPECT_GT(compared, 5000);
}

TEST(SelectNeighbours, AngularDistanceIgnoresLength)
{
    const float a[3] = {1, 2, 2};
    const float longer[3] = {3, 6, 6};
    const float opposite[3] = {-2, -4, -4};
    const float orthogonal[3] = {2, 1, -2};
    const float zero[3] = {0, 0, 0};
    EXPECT_NEAR(angular_distance(a, longer, 3), 0.0f, 1e-6f);
    EXPECT_NEAR(angular_distance(a, opposite, 3), 2.0f, 1e-6f);
    EXPECT_NEAR(angular_distance(a, orthogonal, 3), 1.0f, 1e-6f);
    EXPECT_EQ(angular_distance(a, zero, 3), 1.0f);
    const float large[3] = {1e18f, 2e18f, 2e18f};  // the squared norms' product would overflow
    EXPECT_NEAR(angular_distance(a, large, 3), 0.0f, 1e-6f);
}

TEST(HnswGraph, LevelsFollowTheGeometricDistribution)
{
    const std::uint32_t m = 16;
    const std::uint32_t n = 200000;
    std::vector<std::uint32_t> at_least(4, 0);
    for (std::uint32_t node = 0; node < n; ++node) {
        const int level = HnswGraph::random_level(42, m, node);
        ASSERT_EQ(level, HnswGraph::random_level(42, m, node));
        for (int l = 0; l < 4 && l <= level; ++l)
            ++at_least[l];
    }
    EXPECT_EQ(at_least[0], n);
    for (int l = 1; l < 3; ++l) {
        const double expected = n * std::pow(1.0 / m, l);
        EXPECT_NEAR(at_least[l], expected, 5 * std::sqrt(expected)) << "level " << l;
    }
}

TEST(HnswGraph, LevelsStayUnderTheCap)
{
    const HnswParams params{8, 2, 16, HnswMetric::l2_squared, 3, 1};
    int highest = 0;
    for (std::uint32_t node = 0; node < 10000; ++node) {
        highest = std::max(highest, HnswGraph::random_level(params.seed, params.m, node));
        EXPECT_LE(HnswGraph::node_level(params, node), 1);
    }
    EXPECT_GT(highest, 1) << "m = 2 draws levels above the cap, so the cap is what holds";
}

TEST(HnswGraph, RejectsInvalidParameters)
{
    HnswParams params{32, 1, 64, HnswMetric::l2_squared, 1, HnswGraph::kMaxLevel};
    EXPECT_EQ(HnswGraph::required_bytes(params, 10), 0u);
    params.m = HnswGraph::kMaxM + 1;
    EXPECT_EQ(HnswGraph::required_bytes(params, 10), 0u);
    params.m = 16;
    params.dimensions = 0;
    EXPECT_EQ(HnswGraph::required_bytes(params, 10), 0u);
    params.dimensions = 32;
    params.max_level = HnswGraph::kMaxLevel + 1;
    EXPECT_EQ(HnswGraph::required_bytes(params, 10), 0u);
    params.max_level = HnswGraph::kMaxLevel;
    const std::size_t bytes = HnswGraph::required_bytes(params, 10);
    ASSERT_GT(bytes, 0u);
    std::vector<std::uint8_t> memory(bytes - 1);
    std::vector<float> vectors(320);
    HnswGraph graph;
    EXPECT_EQ(graph.init(memory.data(), memory.size(), params, 10, vectors.data()),
              HnswStatus::invalid_argument);
    memory.assign(bytes, 0);
    EXPECT_EQ(graph.attach(memory.data(), memory.size(), vectors.data()), HnswStatus::invalid_argument);
}

}  // namespace
}  // namespace ann::core
