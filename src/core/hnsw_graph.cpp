#include "core/hnsw_graph.h"

#include <cmath>
#include <cstring>

namespace ann::core {

MetricDistance::MetricDistance(HnswMetric metric, std::uint32_t dimensions) noexcept
    : dimensions_(dimensions)
{
    const DistanceKernels &kernels = ann::core::kernels();
    switch (metric) {
    case HnswMetric::l2_squared:
        kernel_ = kernels.l2_squared;
        break;
    case HnswMetric::negative_inner_product:
        kernel_ = kernels.inner_product;
        sign_ = -1.0f;
        self_is_zero_ = false;
        break;
    case HnswMetric::l1:
        kernel_ = kernels.l1;
        break;
    }
}

namespace {

constexpr std::uint64_t kGraphMagic = 0x414E4E48'4E535733ull;  // "ANNHNSW3": with link caches

std::uint64_t mix64(std::uint64_t z) noexcept
{
    // SplitMix64's finaliser: consecutive node ids come out statistically independent.
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

bool valid_params(const HnswParams &params, std::uint32_t capacity) noexcept
{
    return params.dimensions > 0 && params.m >= 2 && params.m <= HnswGraph::kMaxM &&
           params.ef_construction > 0 && params.max_level <= std::uint32_t(HnswGraph::kMaxLevel) &&
           capacity <= HnswGraph::kMaxCapacity;
}

}  // namespace

int HnswGraph::random_level(std::uint64_t seed, std::uint32_t m, std::uint32_t node) noexcept
{
    const std::uint64_t bits = mix64(seed + (std::uint64_t(node) + 1) * 0x9E3779B97F4A7C15ull);
    const double uniform = double((bits >> 11) + 1) * 0x1p-53;  // (0, 1]
    const double level = -std::log(uniform) / std::log(double(m));
    return level >= kMaxLevel ? kMaxLevel : int(level);
}

int HnswGraph::node_level(const HnswParams &params, std::uint32_t node) noexcept
{
    const int level = random_level(params.seed, params.m, node);
    return level > int(params.max_level) ? int(params.max_level) : level;
}

HnswGraph::Layout HnswGraph::layout(const HnswParams &params, std::uint32_t capacity,
                                    std::uint32_t upper_block_count) noexcept
{
    Layout layout{};
    std::size_t offset = align_up(sizeof(Header));
    layout.levels = offset;
    offset += align_up(capacity);
    layout.upper_start = offset;
    offset += align_up(std::size_t(capacity) * sizeof(std::uint32_t));
    layout.copy_of = offset;
    offset += align_up(std::size_t(capacity) * sizeof(std::uint32_t));
    layout.next_copy = offset;
    offset += align_up(std::size_t(capacity) * sizeof(std::uint32_t));
    layout.in_degree = offset;
    offset += align_up(std::size_t(capacity) * sizeof(std::uint32_t));
    layout.inverse_norms = offset;
    offset += align_up(std::size_t(capacity) * sizeof(float));
    layout.layer0 = offset;
    offset += align_up(std::size_t(capacity) * (1 + 2 * std::size_t(params.m)) * sizeof(std::uint32_t));
    layout.upper = offset;
    offset += align_up(std::size_t(upper_block_count) * (1 + std::size_t(params.m)) * sizeof(std::uint32_t));
    layout.layer0_distances = offset;
    offset += align_up(std::size_t(capacity) * 2 * std::size_t(params.m) * sizeof(float));
    layout.upper_distances = offset;
    offset += align_up(std::size_t(upper_block_count) * std::size_t(params.m) * sizeof(float));
    layout.layer0_tags = offset;
    offset += align_up(std::size_t(capacity) * (1 + 2 * std::size_t(params.m)));
    layout.upper_tags = offset;
    offset += align_up(std::size_t(upper_block_count) * (1 + std::size_t(params.m)));
    layout.total = offset;
    return layout;
}

std::size_t HnswGraph::required_bytes(const HnswParams &params, std::uint32_t capacity) noexcept
{
    if (!valid_params(params, capacity))
        return 0;
    std::uint64_t upper_blocks = 0;
    for (std::uint32_t node = 0; node < capacity; ++node)
        upper_blocks += std::uint64_t(node_level(params, node));
    if (upper_blocks > 0xFFFFFFFFull)
        return 0;
    return layout(params, capacity, std::uint32_t(upper_blocks)).total;
}

HnswStatus HnswGraph::init(void *memory, std::size_t bytes, const HnswParams &params,
                           std::uint32_t capacity, const float *vectors) noexcept
{
    const std::size_t needed = required_bytes(params, capacity);
    if (needed == 0 || bytes < needed || memory == nullptr)
        return HnswStatus::invalid_argument;

    auto *header = static_cast<Header *>(memory);
    std::memset(header, 0, sizeof(Header));
    header->params = params;
    header->capacity = capacity;
    header->entry_point = kNoNode;
    header->max_level = -1;

    // Lay out the levels first: they decide where each node's upper-layer blocks start.
    const Layout provisional = layout(params, capacity, 0);
    auto *base = static_cast<std::uint8_t *>(memory);
    auto *levels = base + provisional.levels;
    auto *upper_start = reinterpret_cast<std::uint32_t *>(base + provisional.upper_start);
    std::uint32_t upper_blocks = 0;
    for (std::uint32_t node = 0; node < capacity; ++node) {
        const int level = node_level(params, node);
        levels[node] = std::uint8_t(level);
        upper_start[node] = upper_blocks;
        upper_blocks += std::uint32_t(level);
    }
    header->upper_block_count = upper_blocks;

    // No copies yet (kNoNode is all ones), and every count (and inverse norm, and link cache
    // state) starts at zero; zeroing the whole list arrays is as cheap as striding.
    const Layout final_layout = layout(params, capacity, upper_blocks);
    std::memset(base + final_layout.copy_of, 0xFF, final_layout.in_degree - final_layout.copy_of);
    std::memset(base + final_layout.in_degree, 0, final_layout.total - final_layout.in_degree);
    header->magic = kGraphMagic;
    return map(memory, bytes, vectors);
}

HnswStatus HnswGraph::attach(void *memory, std::size_t bytes, const float *vectors) noexcept
{
    if (memory == nullptr || bytes < sizeof(Header) || static_cast<Header *>(memory)->magic != kGraphMagic)
        return HnswStatus::invalid_argument;
    return map(memory, bytes, vectors);
}

HnswStatus HnswGraph::map(void *memory, std::size_t bytes, const float *vectors) noexcept
{
    auto *header = static_cast<Header *>(memory);
    const Layout layout = HnswGraph::layout(header->params, header->capacity, header->upper_block_count);
    if (bytes < layout.total || (vectors == nullptr && header->capacity > 0))
        return HnswStatus::invalid_argument;
    auto *base = static_cast<std::uint8_t *>(memory);
    header_ = header;
    vectors_ = vectors;
    levels_ = base + layout.levels;
    upper_start_ = reinterpret_cast<std::uint32_t *>(base + layout.upper_start);
    copy_of_ = reinterpret_cast<std::uint32_t *>(base + layout.copy_of);
    next_copy_ = reinterpret_cast<std::uint32_t *>(base + layout.next_copy);
    in_degree_ = reinterpret_cast<std::uint32_t *>(base + layout.in_degree);
    inverse_norms_ = reinterpret_cast<float *>(base + layout.inverse_norms);
    layer0_ = reinterpret_cast<std::uint32_t *>(base + layout.layer0);
    upper_ = reinterpret_cast<std::uint32_t *>(base + layout.upper);
    layer0_distances_ = reinterpret_cast<float *>(base + layout.layer0_distances);
    upper_distances_ = reinterpret_cast<float *>(base + layout.upper_distances);
    layer0_tags_ = base + layout.layer0_tags;
    upper_tags_ = base + layout.upper_tags;
    layer0_stride_ = 1 + 2 * std::size_t(header->params.m);
    upper_stride_ = 1 + std::size_t(header->params.m);
    distance_ = MetricDistance(header->params.metric, header->params.dimensions);
    return HnswStatus::ok;
}

}  // namespace ann::core
