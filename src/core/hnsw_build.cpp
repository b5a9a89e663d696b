#include "core/hnsw_build.h"

#include <cmath>
#include <cstring>

#include "core/hnsw_select.h"

namespace ann::core {

namespace {

// The diversity test a link list is pruned by, and the state of a link cache (see
// HnswGraph::LinkCache): its tags are stale, or current for that test. The inner product's
// test compares angles, from the cached inverse norms so that it costs one inner product
// like the metric would (see hnsw_select.h for why). On unit vectors (cosine) the angle
// ranks exactly as the metric, which then spares the norms' cache misses (10-20% of the
// build on GloVe); a vector of another length switches every later pruning to angles.
constexpr std::uint8_t kTagsStale = 0;
constexpr std::uint8_t kTestByMetric = 1;
constexpr std::uint8_t kTestByAngle = 2;

std::uint8_t diversity_test(const HnswGraph &graph) noexcept
{
    return graph.params().metric != HnswMetric::negative_inner_product || graph.unit_vectors()
               ? kTestByMetric
               : kTestByAngle;
}

// Calls choose(candidate_distance, distance_between) with the distances of a diversity
// test. id_of(i) is candidate i's node, to_base(i) its metric distance to `base`.
template <typename IdOf, typename ToBase, typename Choose>
std::uint32_t with_diversity_distances(const HnswGraph &graph, std::uint8_t test, std::uint32_t base,
                                       IdOf &&id_of, ToBase &&to_base, Choose &&choose) noexcept
{
    const MetricDistance &distance = graph.distance();
    if (test == kTestByMetric) {
        return choose(to_base, [&](std::uint32_t i, std::uint32_t j) {
            return distance(graph.vector(id_of(i)), graph.vector(id_of(j)));
        });
    }
    const float base_inverse_norm = graph.inverse_norm(base);
    return choose(
        [&](std::uint32_t i) {
            return 1.0f + to_base(i) * base_inverse_norm * graph.inverse_norm(id_of(i));
        },
        [&](std::uint32_t i, std::uint32_t j) {
            const std::uint32_t a = id_of(i);
            const std::uint32_t b = id_of(j);
            return 1.0f + distance(graph.vector(a), graph.vector(b)) * graph.inverse_norm(a) *
                              graph.inverse_norm(b);
        });
}

template <typename IdOf, typename ToBase, typename IsDuplicate>
std::uint32_t select_diverse(const HnswGraph &graph, std::uint32_t base, std::uint32_t count,
                             std::uint32_t limit, IdOf &&id_of, ToBase &&to_base,
                             IsDuplicate &&is_duplicate, std::uint32_t *selected) noexcept
{
    return with_diversity_distances(
        graph, diversity_test(graph), base, id_of, to_base,
        [&](auto &&candidate_distance, auto &&distance_between) {
            return select_neighbours(count, limit, candidate_distance, distance_between,
                                     is_duplicate, selected);
        });
}

constexpr std::uint32_t kMaxLinks = 2 * HnswGraph::kMaxM;

// The search loop of hnsw_search.h over the in-memory graph. Links are first filtered
// against the visited set, so that the vectors still to be read can be prefetched ahead of
// the distance computations, and the links of the node likely expanded next are prefetched
// meanwhile. With concurrent builders a node's links are copied under its lock, as another
// process may be rewriting them.
template <bool kLocked>
void expand_layer(const HnswGraph &graph, BuildSearchState &state, const float *query,
                  const HnswLocking *locking) noexcept
{
    const MetricDistance &distance = graph.distance();
    const std::size_t vector_bytes = std::size_t(graph.dimensions()) * sizeof(float);
    std::uint32_t copy[kMaxLinks];
    std::uint32_t fresh[kMaxLinks];
    std::uint32_t node;
    while (state.pop_candidate(&node)) {
        HnswGraph::Links links;
        if constexpr (kLocked) {
            locking->lock_node(locking->context, node);
            links = graph.links(node, state.level());
            std::memcpy(copy, links.ids, links.count * sizeof(std::uint32_t));
            locking->unlock_node(locking->context, node);
            links.ids = copy;
        } else {
            links = graph.links(node, state.level());
        }
        std::uint32_t next;
        if (state.peek_candidate(&next))
            graph.prefetch_links(next, state.level());
        for (std::uint32_t i = 0; i < links.count; ++i)
            state.prefetch_visited(links.ids[i]);
        std::uint32_t fresh_count = 0;
        for (std::uint32_t i = 0; i < links.count; ++i) {
            const std::uint32_t neighbour = links.ids[i];
            if (state.mark_visited(neighbour)) {
                if (fresh_count < kVectorPrefetchAhead)
                    prefetch_vector(graph.vector(neighbour), vector_bytes);
                else
                    __builtin_prefetch(graph.vector(neighbour), 0, 3);
                fresh[fresh_count++] = neighbour;
            }
        }
        for (std::uint32_t i = 0; i < fresh_count; ++i) {
            if (i + kVectorPrefetchAhead < fresh_count)
                prefetch_vector(graph.vector(fresh[i + kVectorPrefetchAhead]), vector_bytes);
            state.offer(fresh[i], distance(query, graph.vector(fresh[i])));
        }
    }
}

}  // namespace

HnswStatus HnswBuilder::init(HnswGraph &graph, const MemoryHooks &hooks,
                             const HnswLocking *locking) noexcept
{
    graph_ = &graph;
    locking_ = locking;
    hooks_ = hooks;
    const std::uint32_t ef = graph.params().ef_construction;
    const std::uint32_t runners_up = layer0_runners_up(ef);
    const std::uint32_t list_and_node = 2 * graph.params().m + 1;
    const std::uint32_t prune_capacity = list_and_node > ef + runners_up ? list_and_node : ef + runners_up;
    const std::size_t bytes =
        prune_capacity * (2 * sizeof(std::uint32_t) + sizeof(float) + 2 * sizeof(std::uint16_t));
    auto *scratch = static_cast<std::uint8_t *>(hooks.allocate(hooks.context, bytes));
    if (scratch == nullptr)
        return HnswStatus::out_of_memory;
    candidate_ids_ = reinterpret_cast<std::uint32_t *>(scratch);
    selected_ = candidate_ids_ + prune_capacity;
    candidate_distances_ = reinterpret_cast<float *>(selected_ + prune_capacity);
    candidate_tags_ = reinterpret_cast<std::uint16_t *>(candidate_distances_ + prune_capacity);
    newly_kept_ = candidate_tags_ + prune_capacity;
    runners_up_.init(hooks, 0);
    HnswStatus status = search_.init(hooks, ef, graph.capacity());
    if (status == HnswStatus::ok)
        status = runners_up_.reserve(runners_up);
    if (status != HnswStatus::ok) {
        release();
        return status;
    }
    if (runners_up > 0)
        search_.keep_runners_up(&runners_up_);
    return status;
}

void HnswBuilder::release() noexcept
{
    search_.release();
    runners_up_.release();
    if (candidate_ids_ != nullptr)
        hooks_.release(hooks_.context, candidate_ids_);
    candidate_ids_ = nullptr;
}

HnswStatus HnswBuilder::insert(std::uint32_t node) noexcept
{
    HnswGraph &graph = *graph_;
    if (node >= graph.capacity())
        return HnswStatus::invalid_argument;
    HnswGraph::Header &header = *graph.header_;
    const int node_level = graph.level(node);
    if (graph.params().metric == HnswMetric::negative_inner_product) {
        // Before the node is linked: builders that find it read its norm after its links.
        const double norm_squared = -double(graph.distance().self_distance(graph.vector(node)));
        graph.inverse_norms_[node] = norm_squared > 0 ? float(1.0 / std::sqrt(norm_squared)) : 0.0f;
        if (std::fabs(norm_squared - 1.0) > 1e-4 && graph.unit_vectors())  // written once
            __atomic_store_n(&header.non_unit_vectors, 1u, __ATOMIC_RELAXED);
    }

    // A node that raises the top of the graph keeps the entry lock until it is linked, so
    // that no other builder starts from it half-connected. That happens about log_m(N) times.
    if (locking_ != nullptr)
        locking_->lock_entry(locking_->context);
    const std::uint32_t entry = header.entry_point;
    const int top = header.max_level;
    bool raises_top = node_level > top;
    if (locking_ != nullptr && !raises_top)
        locking_->unlock_entry(locking_->context);

    HnswStatus status = HnswStatus::ok;
    if (entry != HnswGraph::kNoNode) {
        const float *query = graph.vector(node);
        const int first_linked_level = node_level < top ? node_level : top;
        status = search_.start(entry, graph.distance()(query, graph.vector(entry)), top,
                               first_linked_level, graph.params().ef_construction);
        if (status == HnswStatus::ok)
            search_.mark_visited(node);
        bool linking = false;
        while (status == HnswStatus::ok) {
            if (locking_ != nullptr)
                expand_layer<true>(graph, search_, query, locking_);
            else
                expand_layer<false>(graph, search_, query, nullptr);
            // Copies are caught on the first layer the node would be linked on, before any
            // link exists. One found only on a lower layer cannot be merged any more; the
            // node is then linked normally (which happens about once per layer per vector).
            if (!linking) {
                const std::uint32_t original = find_copy(node);
                if (original != HnswGraph::kNoNode) {
                    record_copy(node, original);
                    raises_top = false;
                    break;
                }
                linking = true;
            }
            connect(node, search_.level());
            if (!search_.descend())
                break;
            search_.mark_visited(node);
        }
    }

    if (raises_top) {
        header.entry_point = node;
        header.max_level = node_level;
    }
    if (locking_ != nullptr && node_level > top)
        locking_->unlock_entry(locking_->context);
    return status;
}

bool HnswBuilder::same_vector(std::uint32_t a, std::uint32_t b) const noexcept
{
    return std::memcmp(graph_->vector(a), graph_->vector(b),
                       std::size_t(graph_->dimensions()) * sizeof(float)) == 0;
}

// A node among the search results with exactly the vector of `node`, or kNoNode. Only a
// result at the node's own self-distance can be one, so the vectors are rarely compared.
std::uint32_t HnswBuilder::find_copy(std::uint32_t node) const noexcept
{
    const float self = graph_->distance().self_distance(graph_->vector(node));
    for (std::uint32_t i = 0; i < search_.result_count(); ++i) {
        if (search_.result_distance(i) == self && same_vector(node, search_.result_id(i)))
            return search_.result_id(i);
    }
    return HnswGraph::kNoNode;
}

void HnswBuilder::record_copy(std::uint32_t node, std::uint32_t original) noexcept
{
    lock(original);
    graph_->copy_of_[node] = original;
    graph_->next_copy_[node] = graph_->next_copy_[original];
    graph_->next_copy_[original] = node;
    unlock(original);
}

// Links `node` on `level` to a diverse subset of the search results, and each of those back.
// Up to a full list is chosen (2m on layer 0), as pgvector does: the heuristic rarely keeps
// that many, and on GloVe-100 it gains about a point of recall over the paper's m.
void HnswBuilder::connect(std::uint32_t node, int level) noexcept
{
    const HnswGraph &graph = *graph_;
    const MetricDistance &distance = graph.distance();
    const float self = distance.self_distance(graph.vector(node));
    // The results, then (on layer 0) the runners-up: nearest first throughout.
    const BuildSearchState &found = search_;
    candidate_count_ = 0;
    for (std::uint32_t i = 0; i < found.result_count(); ++i) {
        candidate_ids_[candidate_count_] = found.result_id(i);
        candidate_distances_[candidate_count_++] = found.result_distance(i);
    }
    for (std::uint32_t i = 0; level == 0 && i < runners_up_.size(); ++i) {
        candidate_ids_[candidate_count_] = runners_up_.id(i);
        candidate_distances_[candidate_count_++] = runners_up_.distance(i);
    }
    const std::uint32_t kept = select_diverse(
        graph, node, candidate_count_, graph.link_capacity(level),
        [&](std::uint32_t i) { return candidate_ids_[i]; },
        [&](std::uint32_t i) { return candidate_distances_[i]; },
        [&](std::uint32_t i) {
            return candidate_distances_[i] == self && same_vector(node, candidate_ids_[i]);
        },
        selected_);

    // Copied out: the candidates and selected_ are reused while adding the reverse links.
    std::uint32_t neighbours[kMaxLinks];
    float neighbour_distances[kMaxLinks];
    for (std::uint32_t k = 0; k < kept; ++k) {
        neighbours[k] = candidate_ids_[selected_[k]];
        neighbour_distances[k] = candidate_distances_[selected_[k]];
    }

    // Once linked on an upper layer the node is visible to concurrent builders, which may
    // already have linked their own new nodes to it on this layer: keep those links too,
    // as far as they fit. In-degrees change under the lock of the list that changes.
    std::uint32_t *list = graph_->link_list(node, level);
    const HnswGraph::LinkCache cache = graph.link_cache(node, level);
    const std::uint32_t capacity = graph.link_capacity(level);
    std::uint32_t earlier[kMaxLinks];
    lock(node);
    const std::uint32_t earlier_count = list[0];
    std::memcpy(earlier, list + 1, earlier_count * sizeof(std::uint32_t));
    std::memcpy(list + 1, neighbours, kept * sizeof(std::uint32_t));
    std::memcpy(cache.distances, neighbour_distances, kept * sizeof(float));
    std::uint32_t count = kept;
    for (std::uint32_t e = 0; e < earlier_count; ++e) {
        bool present = false;
        for (std::uint32_t k = 0; k < kept && !present; ++k)
            present = neighbours[k] == earlier[e];
        if (present || count == capacity) {
            if (level == 0)
                add_in_degree(earlier[e], -1);
        } else {
            cache.distances[count] = distance(graph.vector(node), graph.vector(earlier[e]));
            list[1 + count++] = earlier[e];
        }
    }
    *cache.state = kTagsStale;
    list[0] = count;
    if (level == 0) {
        for (std::uint32_t k = 0; k < kept; ++k)
            add_in_degree(neighbours[k], 1);
    }
    unlock(node);

    for (std::uint32_t k = 0; k < kept; ++k)
        add_reverse_link(neighbours[k], node, level, neighbour_distances[k]);
}

// Inserts into the sorted candidates, after those at the same distance.
void HnswBuilder::add_candidate(std::uint32_t id, float distance) noexcept
{
    std::uint32_t position = candidate_count_;
    while (position > 0 && candidate_distances_[position - 1] > distance) {
        candidate_ids_[position] = candidate_ids_[position - 1];
        candidate_distances_[position] = candidate_distances_[position - 1];
        --position;
    }
    candidate_ids_[position] = id;
    candidate_distances_[position] = distance;
    ++candidate_count_;
}

// Adds `node` to the links of `target`. A full list then loses the one candidate the same
// heuristic would leave out. The list's cache (see HnswGraph::LinkCache) spares recomputing
// its distances to `target` and, once the list has been pruned, the diversity test of all
// but what the new link changes: about a tenth of the distances that finding the same
// candidate afresh takes on GloVe-100, for the same graph.
void HnswBuilder::add_reverse_link(std::uint32_t target, std::uint32_t node, int level,
                                   float distance_to_node) noexcept
{
    const HnswGraph &graph = *graph_;
    const MetricDistance &distance = graph.distance();
    const std::uint32_t capacity = graph.link_capacity(level);
    std::uint32_t *list = graph_->link_list(target, level);
    const HnswGraph::LinkCache cache = graph.link_cache(target, level);

    lock(target);
    const std::uint32_t count = list[0];
    // In a parallel build `target` may have linked to `node` already: another builder's
    // search found `node` on this layer before `node` itself got here. A single builder
    // links a node on a layer before anything can find it there.
    for (std::uint32_t i = 0; locking_ != nullptr && i < count; ++i) {
        if (list[1 + i] == node) {
            unlock(target);
            return;
        }
    }
    if (count < capacity) {
        list[1 + count] = node;
        cache.distances[count] = distance_to_node;
        *cache.state = kTagsStale;  // the list is in arrival order
        list[0] = count + 1;
        if (level == 0)
            add_in_degree(node, 1);
        unlock(target);
        return;
    }

    // The tags hold for one diversity test; the inner product's changes (to angles) when
    // the first vector that is not of unit length arrives.
    const std::uint8_t test = diversity_test(graph);
    candidate_count_ = count + 1;
    if (*cache.state == test) {
        // Sorted already: `node` goes before the links at its distance, as add_candidate
        // would place it, and the tags shift with the links.
        std::uint32_t at = 0;
        while (at < count && cache.distances[at] < distance_to_node)
            ++at;
        for (std::uint32_t i = 0; i < count; ++i) {
            const std::uint32_t to = i < at ? i : i + 1;
            const std::uint32_t tag = cache.tags[i];
            candidate_ids_[to] = list[1 + i];
            candidate_distances_[to] = cache.distances[i];
            candidate_tags_[to] = std::uint16_t(tag == i ? to : tag < at ? tag : tag + 1);
        }
        candidate_ids_[at] = node;
        candidate_distances_[at] = distance_to_node;
        candidate_tags_[at] = kUnknownTag;
    } else {
        candidate_count_ = 0;
        add_candidate(node, distance_to_node);
        for (std::uint32_t i = 0; i < count; ++i)
            add_candidate(list[1 + i], cache.distances[i]);
        for (std::uint32_t i = 0; i < candidate_count_; ++i)
            candidate_tags_[i] = kUnknownTag;
    }

    // The kept candidates' vectors are the ones the tests read.
    const float *target_vector = graph.vector(target);
    const std::size_t vector_bytes = std::size_t(graph.dimensions()) * sizeof(float);
    for (std::uint32_t i = 0; i < candidate_count_; ++i) {
        if (candidate_tags_[i] == i || candidate_tags_[i] == kUnknownTag)
            prefetch_vector(graph.vector(candidate_ids_[i]), vector_bytes);
    }
    const float self = distance.self_distance(target_vector);
    auto id_of = [&](std::uint32_t i) { return candidate_ids_[i]; };
    auto to_target = [&](std::uint32_t i) { return candidate_distances_[i]; };
    auto is_duplicate = [&](std::uint32_t i) {
        return candidate_distances_[i] == self && same_vector(target, candidate_ids_[i]);
    };
    auto update_tags = [&]() {
        with_diversity_distances(
            graph, test, target, id_of, to_target,
            [&](auto &&candidate_distance, auto &&distance_between) {
                update_diversity_tags(candidate_count_, candidate_distance, distance_between,
                                      is_duplicate, candidate_tags_, newly_kept_);
                return 0u;
            });
    };
    update_tags();
    const std::uint32_t drop = tagged_candidate_to_drop(candidate_count_, candidate_tags_);
    bool keep[kMaxLinks + 1] = {};
    std::uint32_t kept = capacity;
    if (drop < candidate_count_) {
        for (std::uint32_t i = 0; i < candidate_count_; ++i)
            keep[i] = i != drop;
    } else {
        kept = select_diverse(graph, target, candidate_count_, capacity, id_of,
                                                  to_target, is_duplicate, selected_);
        for (std::uint32_t k = 0; k < kept; ++k)
            keep[selected_[k]] = true;
    }
    // On layer 0 a dropped link may be the last way into its node, which no search could
    // then reach (outliers hanging off one hub are the usual victims). Such a link stays,
    // in a free slot or else in place of the farthest kept link whose node has another way
    // in. In-degrees drop through release_in_link, so two lists pruned at once by concurrent
    // builders cannot both let go of a node's last two links.
    if (level == 0) {
        auto can_drop = [&](std::uint32_t i) {
            const std::uint32_t id = candidate_ids_[i];
            return id == node ? in_degree(node) != 0 : release_in_link(id);
        };
        std::uint32_t list_size = kept;
        for (std::uint32_t i = 0; i < candidate_count_; ++i) {
            if (keep[i] || can_drop(i))
                continue;
            if (list_size < capacity) {
                keep[i] = true;
                ++list_size;
                continue;
            }
            for (std::uint32_t j = candidate_count_; j-- > 0 && !keep[i];) {
                if (keep[j] && can_drop(j)) {
                    keep[j] = false;
                    keep[i] = true;
                }
            }
            if (!keep[i] && candidate_ids_[i] != node)  // nowhere to keep it after all
                add_in_degree(candidate_ids_[i], -1);
        }
    }

    // The list keeps the kept candidates in order; a tag whose witness left is re-tested.
    std::uint16_t renumbered[kMaxLinks + 1];
    std::uint32_t written = 0;
    for (std::uint32_t i = 0; i < candidate_count_; ++i) {
        if (!keep[i])
            continue;
        renumbered[i] = std::uint16_t(written);
        const std::uint16_t tag = candidate_tags_[i] & ~kDuplicateTag;
        candidate_ids_[written] = candidate_ids_[i];
        candidate_distances_[written] = candidate_distances_[i];
        candidate_tags_[written] = tag == i ? std::uint16_t(written) : keep[tag] ? renumbered[tag] : kUnknownTag;
        ++written;
        if (level == 0 && candidate_ids_[i] == node)
            add_in_degree(node, 1);
    }
    candidate_count_ = written;
    update_tags();
    for (std::uint32_t i = 0; i < written; ++i) {
        list[1 + i] = candidate_ids_[i];
        cache.distances[i] = candidate_distances_[i];
        cache.tags[i] = std::uint8_t(candidate_tags_[i] & ~kDuplicateTag);
    }
    *cache.state = test;
    list[0] = written;
    unlock(target);
}

namespace {

// Marks every node reachable on layer 0 from `start` (DFS); `stack` holds capacity ids.
void mark_reachable(const HnswGraph &graph, std::uint32_t start, bool *reached,
                    std::uint32_t *stack) noexcept
{
    std::uint32_t depth = 0;
    reached[start] = true;
    stack[depth++] = start;
    while (depth > 0) {
        const HnswGraph::Links links = graph.links(stack[--depth], 0);
        for (std::uint32_t i = 0; i < links.count; ++i) {
            if (!reached[links.ids[i]]) {
                reached[links.ids[i]] = true;
                stack[depth++] = links.ids[i];
            }
        }
    }
}

}  // namespace

HnswStatus HnswBuilder::link_unreachable_nodes(std::uint32_t *relinked) noexcept
{
    const HnswGraph &graph = *graph_;
    const std::uint32_t capacity = graph.capacity();
    std::uint32_t count = 0;
    if (relinked != nullptr)
        *relinked = 0;
    const std::uint32_t entry = graph.entry_point();
    if (entry == HnswGraph::kNoNode)
        return HnswStatus::ok;
    const std::size_t bytes = std::size_t(capacity) * (sizeof(std::uint32_t) + sizeof(bool));
    auto *stack = static_cast<std::uint32_t *>(hooks_.allocate(hooks_.context, bytes));
    if (stack == nullptr)
        return HnswStatus::out_of_memory;
    bool *reached = reinterpret_cast<bool *>(stack + capacity);
    std::memset(reached, 0, capacity * sizeof(bool));
    mark_reachable(graph, entry, reached, stack);

    // Each unreached node is linked from a reached one, which keeps everything reached so
    // far reached (see link_from), so one pass in node order reaches every node: the walks
    // together visit each node once, O(N * 2m) on top of a search per relinked node.
    const std::uint32_t ef = graph.params().ef_construction;
    for (std::uint32_t node = 0; node < capacity; ++node) {
        if (reached[node] || graph.copy_of(node) != HnswGraph::kNoNode)
            continue;
        // The anchor: the nearest reached node with a free slot among the search results,
        // else the nearest reached one. The hierarchical search may descend into a part of
        // layer 0 the entry does not reach; a search of layer 0 alone from the entry cannot.
        std::uint32_t anchor = HnswGraph::kNoNode;
        for (int layer0_only = 0; layer0_only < 2 && anchor == HnswGraph::kNoNode; ++layer0_only) {
            const float *query = graph.vector(node);
            if (search_.start(entry, graph.distance()(query, graph.vector(entry)),
                              layer0_only ? 0 : graph.max_level(), ef) != HnswStatus::ok)
                break;
            expand_layer<false>(graph, search_, query, nullptr);
            for (std::uint32_t i = 0; i < search_.result_count(); ++i) {
                const std::uint32_t id = search_.result_id(i);
                if (id == node || !reached[id])
                    continue;
                if (graph.links(id, 0).count < graph.link_capacity(0)) {
                    anchor = id;
                    break;
                }
                if (anchor == HnswGraph::kNoNode)
                    anchor = id;
            }
        }
        if (anchor == HnswGraph::kNoNode)
            anchor = entry;  // only if the search failed to allocate
        link_from(anchor, node);
        mark_reachable(graph, node, reached, stack);
        ++count;
    }
    hooks_.release(hooks_.context, stack);
    if (relinked != nullptr)
        *relinked = count;
    return HnswStatus::ok;
}

// Adds a layer-0 link from `anchor` to `node`, in a free slot or else in place of the
// anchor's farthest link, to some `victim`, which `node` then links to itself (replacing its
// own farthest link if it must). Anything reached from the anchor before stays reached, as
// the victim now hangs off `node`; a link `node` drops could not have been on any path from
// the entry, since `node` was unreached. Run by one process, after all builders.
void HnswBuilder::link_from(std::uint32_t anchor, std::uint32_t node) noexcept
{
    const HnswGraph &graph = *graph_;
    const MetricDistance &distance = graph.distance();
    const std::uint32_t capacity = graph.link_capacity(0);
    std::uint32_t *list = graph_->link_list(anchor, 0);
    // The slot of the list's farthest link.
    auto farthest_slot = [&](std::uint32_t owner, const std::uint32_t *links) {
        std::uint32_t slot = 0;
        float farthest = 0;
        for (std::uint32_t i = 0; i < links[0]; ++i) {
            const float d = distance(graph.vector(owner), graph.vector(links[1 + i]));
            if (i == 0 || !(d < farthest)) {
                farthest = d;
                slot = i;
            }
        }
        return 1 + slot;
    };
    // The link caches stay true to their lists: their tags go stale, their distances follow.
    auto set_link = [&](std::uint32_t owner, std::uint32_t *links, std::uint32_t slot, std::uint32_t id) {
        const HnswGraph::LinkCache cache = graph.link_cache(owner, 0);
        links[slot] = id;
        cache.distances[slot - 1] = distance(graph.vector(owner), graph.vector(id));
        *cache.state = kTagsStale;
    };
    lock(anchor);
    std::uint32_t victim = HnswGraph::kNoNode;
    if (list[0] < capacity) {
        set_link(anchor, list, 1 + list[0]++, node);
    } else {
        const std::uint32_t slot = farthest_slot(anchor, list);
        victim = list[slot];
        set_link(anchor, list, slot, node);
        add_in_degree(victim, -1);
    }
    add_in_degree(node, 1);
    unlock(anchor);
    if (victim == HnswGraph::kNoNode || victim == node)
        return;

    std::uint32_t *own = graph_->link_list(node, 0);
    lock(node);
    bool present = false;
    for (std::uint32_t i = 0; i < own[0] && !present; ++i)
        present = own[1 + i] == victim;
    if (!present) {
        if (own[0] < capacity) {
            set_link(node, own, 1 + own[0]++, victim);
        } else {
            const std::uint32_t slot = farthest_slot(node, own);
            add_in_degree(own[slot], -1);
            set_link(node, own, slot, victim);
        }
        add_in_degree(victim, 1);
    }
    unlock(node);
}

std::uint32_t search_graph(const HnswGraph &graph, BuildSearchState &state, const float *query,
                           std::uint32_t ef, std::uint32_t k, std::uint32_t *ids,
                           float *distances) noexcept
{
    const std::uint32_t entry = graph.entry_point();
    if (entry == HnswGraph::kNoNode)
        return 0;
    if (state.start(entry, graph.distance()(query, graph.vector(entry)), graph.max_level(),
                    ef < k ? k : ef) != HnswStatus::ok)
        return 0;
    expand_layer<false>(graph, state, query, nullptr);
    const std::uint32_t found = state.result_count() < k ? state.result_count() : k;
    for (std::uint32_t i = 0; i < found; ++i) {
        ids[i] = state.result_id(i);
        distances[i] = state.result_distance(i);
    }
    return found;
}

}  // namespace ann::core
