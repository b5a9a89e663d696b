// HNSW neighbour selection (the "heuristic" of Malkov & Yashunin, algorithm 4), written over
// callables so the in-memory build and the adapter's on-disk insert share it.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstdint>

namespace ann::core {

// Exact duplicates of the base node get their own small budget of links. Without it, nodes
// with many identical copies fill their lists with copies (distance 0 sorts first) and lose
// every link out of the cluster; and copies must never prune anything, since a candidate is
// exactly as far from a copy of the base as from the base itself.
constexpr std::uint32_t kDuplicateLinkBudget = 2;

// Chooses up to `limit` of `count` candidates, sorted nearest to the base node first, and
// writes their indices (ascending) to `selected`; returns how many. A candidate is kept when
// no already kept candidate is strictly nearer to it than the base is, so each link points in
// a new direction; ties keep the candidate. Exact duplicates of the base bypass that rule and
// fill at most kDuplicateLinkBudget slots. When all candidates fit, all are kept, as small
// graphs need every link they can get.
//
//   candidate_distance(i)  -> float   distance from the base to candidate i
//   distance_between(i, j) -> float   distance between candidates i and j
//   is_duplicate(i)        -> bool    candidate i has exactly the base's vector
template <typename CandidateDistance, typename DistanceBetween, typename IsDuplicate>
std::uint32_t select_neighbours(std::uint32_t count, std::uint32_t limit,
                                CandidateDistance &&candidate_distance,
                                DistanceBetween &&distance_between, IsDuplicate &&is_duplicate,
                                std::uint32_t *selected) noexcept
{
    if (count <= limit) {
        for (std::uint32_t i = 0; i < count; ++i)
            selected[i] = i;
        return count;
    }
    // Duplicates are flagged in the top bit of their slot so the diversity test skips them
    // without asking is_duplicate again.
    constexpr std::uint32_t kDuplicateFlag = 0x80000000u;
    std::uint32_t kept = 0;
    std::uint32_t duplicates = 0;
    for (std::uint32_t i = 0; i < count && kept < limit; ++i) {
        if (is_duplicate(i)) {
            if (duplicates < kDuplicateLinkBudget) {
                selected[kept++] = i | kDuplicateFlag;
                ++duplicates;
            }
            continue;
        }
        const float to_base = candidate_distance(i);
        bool diverse = true;
        for (std::uint32_t k = 0; k < kept && diverse; ++k) {
            if ((selected[k] & kDuplicateFlag) == 0)
                diverse = !(distance_between(i, selected[k]) < to_base);
        }
        if (diverse)
            selected[kept++] = i;
    }
    for (std::uint32_t k = 0; k < kept; ++k)
        selected[k] &= ~kDuplicateFlag;
    return kept;
}

}  // namespace ann::core
