// HNSW neighbour selection (the "heuristic" of Malkov & Yashunin, algorithm 4), written over
// callables so the in-memory build and the adapter's on-disk insert share it.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/distance.h"

namespace ann::core {

// A node's layer-0 links are chosen among the ef_construction nearest nodes its search found
// and the nearest this many more that it let go (SearchState::keep_runners_up), whose
// distances it computed anyway. The farther candidates give the diversity test more
// directions to keep links in. On GloVe-100 (m 16, ef_construction 64), two seeds each,
// recall@10 at ef_search 40 / 320 was 0.859 / 0.982 with none, 0.862 / 0.984 with
// ef_construction more and 0.864 / 0.985 with twice that, which made the build about a
// fifth slower.
constexpr std::uint32_t layer0_runners_up(std::uint32_t ef_construction) noexcept
{
    return 2 * ef_construction;
}

// Exact duplicates of the base node get their own small budget of links. Without it, nodes
// with many identical copies fill their lists with copies (distance 0 sorts first) and lose
// every link out of the cluster; and copies must never prune anything, since a candidate is
// exactly as far from a copy of the base as from the base itself.
constexpr std::uint32_t kDuplicateLinkBudget = 2;

// Chooses up to `limit` of `count` candidates, sorted nearest to the base node first, and
// writes their indices (ascending) to `selected`; returns how many. A candidate is kept when
// no already kept candidate is strictly nearer to it than the base is, so each link points in
// a new direction; ties keep the candidate. Exact duplicates of the base bypass that rule and
// fill at most kDuplicateLinkBudget slots. Slots the heuristic leaves empty are then filled
// with the candidates it rejected, nearest first (the paper's keepPrunedConnections, which
// pgvector also applies): on GloVe-100 it gains 2-3 points of recall@10 at a given
// ef_search. When all candidates fit, all are kept, as small graphs need every link they
// can get.
//
//   candidate_distance(i)  -> float   distance from the base to candidate i
//   distance_between(i, j) -> float   distance between candidates i and j
//   is_duplicate(i)        -> bool    candidate i has exactly the base's vector
//
// The two distances only decide the diversity test, and must be of one kind; the candidates'
// order is the index metric's. For L2 and L1 both are the metric itself. For the inner
// product (vector_ip_ops) they must be the angular distance 1 - cos (angular_distance
// below), while the candidates stay sorted by negative inner product: the negative inner
// product is no distance (a long vector is "nearer" to everything in its half-space than
// the base itself), so with it one long selected neighbour prunes nearly every other
// candidate, nodes keep one or two links into a few long hubs, and short vectors lose every
// way in (GloVe-100 un-normalised, 200,000 rows: 8,340 unreachable from the entry, recall@10
// 0.73 at ef_search 40; with angles 441 before the final pass, and 0.84). On normalised
// vectors (vector_cosine_ops) 1 - cos is 1 + the negative inner product, so the angular test
// makes exactly the same choices as the metric itself and either may be passed.
// Adds up to `room` of the candidates the diversity test rejected, nearest first, to the
// `kept` ascending indices in `selected`, keeping them ascending; returns how many it added.
// Duplicates beyond their budget stay out. Merged from the back, so no scratch is needed: a
// slot is written only after the kept index it held has been read.
template <typename IsDuplicate>
std::uint32_t fill_with_pruned(std::uint32_t count, std::uint32_t room, std::uint32_t kept,
                               IsDuplicate &&is_duplicate, std::uint32_t *selected) noexcept
{
    if (room == 0)
        return 0;
    std::uint32_t added = 0;
    std::uint32_t last = 0;  // the last candidate examined
    for (std::uint32_t i = 0, k = 0; i < count && added < room; ++i) {
        last = i;
        if (k < kept && selected[k] == i)
            ++k;
        else if (!is_duplicate(i))
            ++added;
    }
    if (added == 0)
        return 0;
    std::uint32_t write = kept + added;
    std::uint32_t k = kept;
    const std::uint32_t top = kept > 0 && selected[kept - 1] > last ? selected[kept - 1] : last;
    for (std::uint32_t i = top + 1; i-- > 0;) {
        if (k > 0 && selected[k - 1] == i)
            selected[--write] = selected[--k];
        else if (i <= last && !is_duplicate(i))
            selected[--write] = i;
    }
    return added;
}

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
    return kept + fill_with_pruned(count, limit - kept, kept, is_duplicate, selected);
}

// The diversity test's verdicts over a link list sorted nearest first, in a form that is
// cheap to keep up to date as the list changes (the build caches them with each list): tag
// i is i when candidate i is kept by the test, else the index of a nearer kept candidate
// that prunes it, a witness that the verdict holds for as long as that one stays kept. Exact
// duplicates of the base are kept and prune nothing, as in select_neighbours, and carry
// kDuplicateTag besides.
constexpr std::uint16_t kUnknownTag = 0x7FFF;
constexpr std::uint16_t kDuplicateTag = 0x8000;

inline bool kept_by_tag(const std::uint16_t *tags, std::uint32_t i) noexcept
{
    return (tags[i] & ~kDuplicateTag) == i;
}

// Brings the tags of `count` candidates up to date after candidates were inserted into the
// list or removed from it. On input tags[i] is candidate i's earlier tag renumbered to the
// current indices, or kUnknownTag for a new candidate or one whose witness is gone. The
// result is exactly what testing every candidate afresh would give, but only what may have
// changed is tested: a candidate kept before only against the candidates that became kept
// before it, a pruned one only when its witness lost its place. A list that gained a pruned
// candidate and lost pruned ones costs the new candidate's test alone. `newly_kept` is
// scratch for `count` indices; the distances are as for select_neighbours.
template <typename CandidateDistance, typename DistanceBetween, typename IsDuplicate>
void update_diversity_tags(std::uint32_t count, CandidateDistance &&candidate_distance,
                           DistanceBetween &&distance_between, IsDuplicate &&is_duplicate,
                           std::uint16_t *tags, std::uint16_t *newly_kept) noexcept
{
    std::uint32_t newly_kept_count = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint16_t earlier = tags[i];
        std::uint16_t tag = std::uint16_t(i);
        if (is_duplicate(i)) {
            tags[i] = tag | kDuplicateTag;
            continue;
        }
        if (earlier == i) {
            // Nothing kept before pruned it: only a candidate kept since can.
            if (newly_kept_count > 0) {
                const float to_base = candidate_distance(i);
                for (std::uint32_t k = 0; k < newly_kept_count && tag == i; ++k) {
                    if (distance_between(i, newly_kept[k]) < to_base)
                        tag = newly_kept[k];
                }
            }
        } else if (earlier != kUnknownTag && tags[earlier] == earlier) {
            tag = earlier;
        } else {
            const float to_base = candidate_distance(i);
            for (std::uint32_t j = 0; j < i && tag == i; ++j) {
                if (tags[j] == j && distance_between(i, j) < to_base)
                    tag = std::uint16_t(j);
            }
            if (tag == i)
                newly_kept[newly_kept_count++] = tag;
        }
        tags[i] = tag;
    }
}

// Of a full link list plus one new candidate (`count` = capacity + 1), tagged by
// update_diversity_tags, the one candidate select_neighbours(count, count - 1, ...) would
// leave out: the farthest the diversity test rejects, or the farthest of all when it rejects
// none. Returns `count` when more duplicates of the base than their budget make the answer
// more than one candidate; the caller then runs select_neighbours.
inline std::uint32_t tagged_candidate_to_drop(std::uint32_t count, const std::uint16_t *tags) noexcept
{
    std::uint32_t duplicates = 0;
    for (std::uint32_t i = 0; i < count; ++i)
        duplicates += (tags[i] & kDuplicateTag) != 0 ? 1 : 0;
    if (duplicates > kDuplicateLinkBudget)
        return count;
    for (std::uint32_t i = count; i-- > 0;) {
        if (!kept_by_tag(tags, i))
            return i;
    }
    return count - 1;
}

// The angular distance 1 - cos(a, b) of the inner product's diversity test; 1 (orthogonal)
// when either vector is zero. The in-memory build computes the same from cached inverse
// norms: 1 + negative_inner_product(a, b) / (|a| |b|).
inline float angular_distance(const float *a, const float *b, std::size_t dimensions) noexcept
{
    const CosineParts parts = kernels().cosine_parts(a, b, dimensions);
    const float norms = std::sqrt(parts.norm_a_squared) * std::sqrt(parts.norm_b_squared);
    return norms > 0.0f ? 1.0f - parts.dot / norms : 1.0f;
}

}  // namespace ann::core
