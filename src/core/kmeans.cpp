#include "core/kmeans.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/distance.h"
#include "core/ivf_kernels.h"

namespace ann::core {

namespace {

constexpr std::uint32_t kUnassigned = 0xFFFFFFFF;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

// Scales v to unit length; a zero vector stays zero.
void normalise(float *v, std::uint32_t dimensions) noexcept
{
    const double norm = std::sqrt(static_cast<double>(kernels().norm_squared(v, dimensions)));
    if (norm == 0.0)
        return;
    for (std::uint32_t d = 0; d < dimensions; ++d)
        v[d] = static_cast<float>(v[d] / norm);
}

}  // namespace

KmeansStatus Kmeans::init(const MemoryHooks &hooks, const KmeansParams &params, float *samples,
                          std::uint32_t count, std::uint64_t work_per_step) noexcept
{
    hooks_ = hooks;
    params_ = params;
    samples_ = samples;
    count_ = count;
    // Work is counted in float operations: about 64M of them is a few tens of milliseconds.
    work_per_step_ = work_per_step == 0 ? 1 : work_per_step;
    random_state_ = params.seed;
    phase_ = Phase::done;
    step_ = Step::seed;
    cursor_ = 0;
    seeded_ = 0;
    iteration_ = 0;
    changes_ = 0;
    last_changes_ = 0;
    centres_ = nullptr;
    sums_ = nullptr;
    sizes_ = nullptr;
    movement_ = nullptr;
    separation_ = nullptr;
    assignment_ = nullptr;
    upper_ = nullptr;
    lower_ = nullptr;
    sample_norms_ = nullptr;
    centre_norms_ = nullptr;
    scratch_ = nullptr;
    if (params.dimensions == 0 || params.clusters == 0 || (count > 0 && samples == nullptr))
        return KmeansStatus::invalid_argument;

    const std::size_t k = params.clusters;
    const std::size_t n = count == 0 ? 1 : count;  // never ask for zero bytes
    centres_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * k * params.dimensions));
    sums_ = static_cast<double *>(hooks_.allocate(hooks_.context, sizeof(double) * k * params.dimensions));
    sizes_ = static_cast<std::uint32_t *>(hooks_.allocate(hooks_.context, sizeof(std::uint32_t) * k));
    movement_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * k));
    separation_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * k));
    assignment_ = static_cast<std::uint32_t *>(hooks_.allocate(hooks_.context, sizeof(std::uint32_t) * n));
    upper_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * n));
    lower_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * n));
    sample_norms_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * n));
    centre_norms_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * k));
    scratch_size_ = static_cast<std::uint32_t>(std::max<std::size_t>(k, kScratchRows));
    scratch_ = static_cast<float *>(hooks_.allocate(hooks_.context, sizeof(float) * scratch_size_));
    if (!centres_ || !sums_ || !sizes_ || !movement_ || !separation_ || !assignment_ || !upper_ || !lower_ ||
        !sample_norms_ || !centre_norms_ || !scratch_) {
        release();
        return KmeansStatus::out_of_memory;
    }
    std::memset(sizes_, 0, sizeof(std::uint32_t) * k);
    for (std::size_t j = 0; j < k; ++j)
        movement_[j] = 0.0f;
    for (std::uint32_t i = 0; i < count; ++i) {
        assignment_[i] = kUnassigned;
        upper_[i] = kInfinity;
        lower_[i] = 0.0f;
    }
    if (params.spherical) {
        for (std::uint32_t i = 0; i < count; ++i)
            normalise(samples_ + static_cast<std::size_t>(i) * params.dimensions, params.dimensions);
    }
    for (std::uint32_t i = 0; i < count; ++i)
        sample_norms_[i] = kernels().norm_squared(sample(i), params.dimensions);

    if (count == 0) {
        fill_remaining_centres(0);
        return KmeansStatus::ok;
    }
    phase_ = Phase::seeding;
    seed_first_centre();
    return KmeansStatus::ok;
}

void Kmeans::release() noexcept
{
    void *buffers[] = {centres_, sums_, sizes_, movement_, separation_, assignment_, upper_, lower_,
                       sample_norms_, centre_norms_, scratch_};
    for (void *buffer : buffers) {
        if (buffer != nullptr)
            hooks_.release(hooks_.context, buffer);
    }
    centres_ = nullptr;
    sums_ = nullptr;
    sizes_ = nullptr;
    movement_ = nullptr;
    separation_ = nullptr;
    assignment_ = nullptr;
    upper_ = nullptr;
    lower_ = nullptr;
    sample_norms_ = nullptr;
    centre_norms_ = nullptr;
    scratch_ = nullptr;
    phase_ = Phase::done;
}

float Kmeans::distance(const float *a, const float *b) const noexcept
{
    return std::sqrt(kernels().l2_squared(a, b, params_.dimensions));
}

void Kmeans::update_centre_norm(std::uint32_t j) noexcept
{
    centre_norms_[j] = kernels().norm_squared(centre(j), params_.dimensions);
}

// The nearest and second nearest centre to sample i, skipping `excluded`, from squared
// distances |x|^2 + |c|^2 - 2 x.c computed in one batched pass of inner products. Returns
// distances, not squares. Components near the float range make those infinite or NaN; the
// first centre considered is then taken, so every sample still gets a real centre.
void Kmeans::two_nearest(std::uint32_t i, std::uint32_t excluded, Nearest *nearest) noexcept
{
    const std::uint32_t k = params_.clusters;
    inner_products(sample(i), centres_, k, params_.dimensions, scratch_);
    const float norm = sample_norms_[i];
    float best = kInfinity;
    float second = kInfinity;
    std::uint32_t best_centre = kUnassigned;
    for (std::uint32_t j = 0; j < k; ++j) {
        if (j == excluded)
            continue;
        const float d = norm + centre_norms_[j] - 2.0f * scratch_[j];
        if (best_centre == kUnassigned || d < best || (std::isnan(best) && !std::isnan(d))) {
            second = best;
            best = d;
            best_centre = j;
        } else if (d < second) {
            second = d;
        }
    }
    if (best_centre == kUnassigned)
        best_centre = excluded;  // a single centre, excluded
    nearest->centre = best_centre;
    nearest->distance = std::sqrt(std::max(0.0f, best));
    nearest->second_distance = std::sqrt(std::max(0.0f, second));
}

// splitmix64: tiny, fast and fully determined by the seed.
std::uint64_t Kmeans::next_random() noexcept
{
    std::uint64_t z = (random_state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint32_t Kmeans::points_per_slice(std::uint64_t distances_per_point) const noexcept
{
    const std::uint64_t cost = distances_per_point * params_.dimensions;
    const std::uint64_t points = work_per_step_ / (cost == 0 ? 1 : cost);
    return points == 0 ? 1 : (points > 0xFFFFFFFFull ? 0xFFFFFFFFu : static_cast<std::uint32_t>(points));
}

bool Kmeans::step() noexcept
{
    if (phase_ == Phase::done)
        return false;
    switch (step_) {
        case Step::seed:
            seeding_slice();
            break;
        case Step::assign_all:
            full_assignment_slice();
            break;
        case Step::separate:
            separation_slice();
            break;
        case Step::assign_bounded:
            bounded_assignment_slice();
            break;
        case Step::update:
            update_centres();
            break;
        case Step::fill_empty:
            fill_empty_slice();
            break;
    }
    return phase_ != Phase::done;
}

// --- k-means++ seeding ---------------------------------------------------------------------
// upper_ holds each sample's squared distance to its nearest chosen centre.

void Kmeans::seed_first_centre() noexcept
{
    const std::uint32_t first = static_cast<std::uint32_t>(next_random() % count_);
    std::memcpy(centre(0), sample(first), sizeof(float) * params_.dimensions);
    update_centre_norm(0);
    seeded_ = 1;
    cursor_ = 0;
    step_ = Step::seed;
}

void Kmeans::seeding_slice() noexcept
{
    const float *latest = centre(seeded_ - 1);
    const float latest_norm = centre_norms_[seeded_ - 1];
    const std::uint32_t end = cursor_ + std::min<std::uint64_t>(points_per_slice(1), count_ - cursor_);
    for (std::uint32_t from = cursor_; from < end; from += scratch_size_) {
        const std::uint32_t rows = std::min(scratch_size_, end - from);
        inner_products(latest, sample(from), rows, params_.dimensions, scratch_);
        for (std::uint32_t r = 0; r < rows; ++r) {
            const float d = std::max(0.0f, sample_norms_[from + r] + latest_norm - 2.0f * scratch_[r]);
            if (d < upper_[from + r])
                upper_[from + r] = d;
        }
    }
    cursor_ = end;
    if (cursor_ == count_)
        choose_next_seed();
}

void Kmeans::choose_next_seed() noexcept
{
    cursor_ = 0;
    if (seeded_ < params_.clusters) {
        double total = 0.0;
        for (std::uint32_t i = 0; i < count_; ++i)
            total += upper_[i];
        if (total > 0.0) {
            // A sample with probability proportional to its squared distance.
            const double target = total * (static_cast<double>(next_random() >> 11) * 0x1.0p-53);
            double running = 0.0;
            std::uint32_t chosen = count_;
            for (std::uint32_t i = 0; i < count_; ++i) {
                running += upper_[i];
                if (upper_[i] > 0.0f && running > target) {
                    chosen = i;
                    break;
                }
            }
            if (chosen == count_) {  // rounding left the target beyond the sum: take the last candidate
                for (std::uint32_t i = count_; i-- > 0;) {
                    if (upper_[i] > 0.0f) {
                        chosen = i;
                        break;
                    }
                }
            }
            std::memcpy(centre(seeded_), sample(chosen), sizeof(float) * params_.dimensions);
            update_centre_norm(seeded_);
            seeded_++;
            if (seeded_ < params_.clusters)
                return;
        } else {
            // Every sample coincides with a centre: fewer distinct samples than clusters.
            fill_remaining_centres(seeded_);
        }
    }
    if (params_.max_iterations == 0) {
        phase_ = Phase::done;
        return;
    }
    phase_ = Phase::iterating;
    step_ = Step::assign_all;
}

void Kmeans::fill_remaining_centres(std::uint32_t from) noexcept
{
    const std::uint32_t dims = params_.dimensions;
    for (std::uint32_t d = 0; d < dims; ++d) {
        float low = count_ > 0 ? sample(0)[d] : -1.0f;
        float high = count_ > 0 ? sample(0)[d] : 1.0f;
        for (std::uint32_t i = 1; i < count_; ++i) {
            low = std::min(low, sample(i)[d]);
            high = std::max(high, sample(i)[d]);
        }
        for (std::uint32_t j = from; j < params_.clusters; ++j) {
            const double unit = static_cast<double>(next_random() >> 11) * 0x1.0p-53;
            centre(j)[d] = static_cast<float>(low + unit * (static_cast<double>(high) - low));
        }
    }
    if (params_.spherical) {
        for (std::uint32_t j = from; j < params_.clusters; ++j) {
            normalise(centre(j), dims);
            if (kernels().norm_squared(centre(j), dims) == 0.0f)
                centre(j)[0] = 1.0f;
        }
    }
    for (std::uint32_t j = from; j < params_.clusters; ++j)
        update_centre_norm(j);
    seeded_ = params_.clusters;
}

// --- Hamerly iterations ----------------------------------------------------------------------
// upper_[i] bounds the distance from sample i to its centre from above, lower_[i] the
// distance to every other centre from below. A sample whose upper bound is below both its
// lower bound and half the distance from its centre to the nearest other centre cannot have
// changed cluster, and costs no distance at all.

void Kmeans::full_assignment_slice() noexcept
{
    const std::uint32_t k = params_.clusters;
    const std::uint32_t end = cursor_ + std::min<std::uint64_t>(points_per_slice(k), count_ - cursor_);
    for (std::uint32_t i = cursor_; i < end; ++i) {
        Nearest nearest;
        two_nearest(i, kUnassigned, &nearest);
        if (assignment_[i] != nearest.centre)
            changes_++;
        assignment_[i] = nearest.centre;
        upper_[i] = nearest.distance;
        lower_[i] = nearest.second_distance;
    }
    cursor_ = end;
    if (cursor_ == count_)
        finish_assignment_pass();
}

void Kmeans::separation_slice() noexcept
{
    const std::uint32_t k = params_.clusters;
    const std::uint32_t end = cursor_ + std::min<std::uint64_t>(points_per_slice(k), k - cursor_);
    for (std::uint32_t j = cursor_; j < end; ++j) {
        float nearest = kInfinity;
        inner_products(centre(j), centres_, k, params_.dimensions, scratch_);
        for (std::uint32_t other = 0; other < k; ++other) {
            if (other != j)
                nearest = std::min(nearest, centre_norms_[j] + centre_norms_[other] - 2.0f * scratch_[other]);
        }
        separation_[j] = 0.5f * std::sqrt(std::max(0.0f, nearest));
    }
    cursor_ = end;
    if (cursor_ == k) {
        cursor_ = 0;
        step_ = Step::assign_bounded;
    }
}

void Kmeans::bounded_assignment_slice() noexcept
{
    const std::uint32_t k = params_.clusters;
    float largest_move = 0.0f;
    for (std::uint32_t j = 0; j < k; ++j)
        largest_move = std::max(largest_move, movement_[j]);

    const std::uint32_t end = cursor_ + std::min<std::uint64_t>(points_per_slice(k), count_ - cursor_);
    for (std::uint32_t i = cursor_; i < end; ++i) {
        const std::uint32_t assigned = assignment_[i];
        float upper = upper_[i] + movement_[assigned];
        float lower = lower_[i] - largest_move;
        const float bound = std::max(separation_[assigned], lower);
        if (upper > bound) {
            upper = distance(sample(i), centre(assigned));
            if (upper > bound) {
                // The nearest other centre: it wins if nearer than the assigned one.
                Nearest other;
                two_nearest(i, assigned, &other);
                if (other.distance < upper) {
                    changes_++;
                    assignment_[i] = other.centre;
                    lower = std::min(upper, other.second_distance);
                    upper = other.distance;
                } else {
                    lower = other.distance;
                }
            }
        }
        upper_[i] = upper;
        lower_[i] = lower;
    }
    cursor_ = end;
    if (cursor_ == count_)
        finish_assignment_pass();
}

void Kmeans::finish_assignment_pass() noexcept
{
    iteration_++;
    last_changes_ = changes_;
    changes_ = 0;
    cursor_ = 0;
    // Unchanged assignments mean the centres are already their clusters' means.
    if (iteration_ > 1 && last_changes_ == 0) {
        phase_ = Phase::done;
        return;
    }
    step_ = Step::update;
    std::memset(sums_, 0, sizeof(double) * params_.clusters * params_.dimensions);
    std::memset(sizes_, 0, sizeof(std::uint32_t) * params_.clusters);
}

void Kmeans::update_centres() noexcept
{
    const std::uint32_t dims = params_.dimensions;
    const std::uint32_t end = cursor_ + std::min<std::uint64_t>(points_per_slice(1), count_ - cursor_);
    for (std::uint32_t i = cursor_; i < end; ++i) {
        double *sum = sums_ + static_cast<std::size_t>(assignment_[i]) * dims;
        const float *x = sample(i);
        for (std::uint32_t d = 0; d < dims; ++d)
            sum[d] += x[d];
        sizes_[assignment_[i]]++;
    }
    cursor_ = end;
    if (cursor_ < count_)
        return;

    cursor_ = 0;
    for (std::uint32_t j = 0; j < params_.clusters; ++j) {
        if (sizes_[j] == 0) {
            movement_[j] = 0.0f;
            continue;
        }
        // The mean is formed in double in the sums' own storage; the distance it moved feeds
        // the bounds of the next pass.
        double *sum = sums_ + static_cast<std::size_t>(j) * dims;
        const double scale = 1.0 / sizes_[j];
        double norm_squared = 0.0;
        for (std::uint32_t d = 0; d < dims; ++d) {
            sum[d] *= scale;
            norm_squared += sum[d] * sum[d];
        }
        const double unit = params_.spherical && norm_squared > 0.0 ? 1.0 / std::sqrt(norm_squared) : 1.0;
        double moved_squared = 0.0;
        float *c = centre(j);
        for (std::uint32_t d = 0; d < dims; ++d) {
            const float updated = static_cast<float>(sum[d] * unit);
            moved_squared += (static_cast<double>(updated) - c[d]) * (static_cast<double>(updated) - c[d]);
            c[d] = updated;
        }
        movement_[j] = static_cast<float>(std::sqrt(moved_squared));
        update_centre_norm(j);
    }

    reassigned_ = false;
    step_ = Step::fill_empty;
}

// One empty cluster per step (each costs a pass over the samples), so that cancellation
// stays prompt however many clusters an iteration left empty.
void Kmeans::fill_empty_slice() noexcept
{
    while (cursor_ < params_.clusters && sizes_[cursor_] != 0)
        cursor_++;
    if (cursor_ < params_.clusters && fill_empty_cluster(cursor_)) {
        reassigned_ = true;
        cursor_++;
        return;
    }
    // Done: no empty cluster left, or no sample left to move into one.
    cursor_ = 0;
    if (iteration_ >= params_.max_iterations) {
        phase_ = Phase::done;
        return;
    }
    // Moved samples invalidate the bounds: the next pass measures every distance again.
    step_ = reassigned_ ? Step::assign_all : Step::separate;
}

bool Kmeans::fill_empty_cluster(std::uint32_t j) noexcept
{
    std::uint32_t farthest = count_;
    float farthest_distance = 0.0f;
    for (std::uint32_t i = 0; i < count_; ++i) {
        if (sizes_[assignment_[i]] < 2)
            continue;
        const float d = distance(sample(i), centre(assignment_[i]));
        if (d > farthest_distance) {
            farthest_distance = d;
            farthest = i;
        }
    }
    if (farthest == count_)
        return false;  // every sample sits on a centre: nothing left to split
    sizes_[assignment_[farthest]]--;
    assignment_[farthest] = j;
    sizes_[j] = 1;
    std::memcpy(centre(j), sample(farthest), sizeof(float) * params_.dimensions);
    update_centre_norm(j);
    return true;
}

void centre_norms(const float *centres, std::uint32_t count, std::uint32_t dimensions, float *norms) noexcept
{
    for (std::uint32_t j = 0; j < count; ++j)
        norms[j] = kernels().norm_squared(centres + static_cast<std::size_t>(j) * dimensions, dimensions);
}

std::uint32_t nearest_centre(const float *centres, const float *norms, std::uint32_t count,
                             std::uint32_t dimensions, bool spherical, const float *vector) noexcept
{
    // Ranked by |c|^2 - 2 x.c, which orders centres as |x - c|^2 does, or by -x.c on the sphere.
    constexpr std::uint32_t kBlock = 256;
    float products[kBlock];
    std::uint32_t best = 0;
    float best_score = kInfinity;
    for (std::uint32_t from = 0; from < count; from += kBlock) {
        const std::uint32_t rows = std::min(kBlock, count - from);
        inner_products(vector, centres + static_cast<std::size_t>(from) * dimensions, rows, dimensions, products);
        for (std::uint32_t r = 0; r < rows; ++r) {
            const float score = spherical ? -products[r] : norms[from + r] - 2.0f * products[r];
            if (score < best_score) {
                best_score = score;
                best = from + r;
            }
        }
    }
    return best;
}

}  // namespace ann::core
