// k-means clustering for inverted-file indexes: k-means++ seeding, then Hamerly's
// accelerated Lloyd iterations, optionally on the unit sphere.
// Pure C++: no Postgres header may be included from src/core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hnsw_memory.h"

namespace ann::core {

enum class KmeansStatus : std::uint8_t {
    ok,
    out_of_memory,
    invalid_argument,
};

struct KmeansParams {
    std::uint32_t dimensions = 0;
    std::uint32_t clusters = 0;
    std::uint32_t max_iterations = 0;
    // Spherical k-means: samples are normalised on the way in and centres after every update,
    // so points cluster by direction (cosine and inner-product indexes).
    bool spherical = false;
    std::uint64_t seed = 0;
};

// The clustering as a resumable job: the caller runs step() until it returns false, and may
// check for cancellation between steps, each of which costs about `work_per_step` distance
// computations. Every buffer comes from the memory hooks and the object has no destructor,
// so a caller whose memory context is reset mid-run leaks nothing.
//
// The result is a pure function of the samples, their order, the params and the seed.
//
// Fewer distinct samples than clusters (including none): the distinct samples become
// centres, and the remaining centres are seeded pseudo-random points spread over the
// samples' bounding box (over [-1, 1] in every dimension without samples), so that vectors
// added later still find a nearby list. A cluster left empty by an iteration takes over the
// sample farthest from its own centre among clusters of more than one sample.
class Kmeans {
public:
    enum class Phase : std::uint8_t { seeding, iterating, done };

    // `samples` holds count x dimensions floats, row major; the job keeps the pointer and,
    // when spherical, normalises the rows in place (zero rows are left as they are).
    KmeansStatus init(const MemoryHooks &hooks, const KmeansParams &params, float *samples,
                      std::uint32_t count, std::uint64_t work_per_step = 1u << 20) noexcept;
    void release() noexcept;

    // Does one slice of the job; false once the centres are final.
    bool step() noexcept;

    Phase phase() const noexcept { return phase_; }
    std::uint32_t iterations() const noexcept { return iteration_; }
    std::uint32_t clusters() const noexcept { return params_.clusters; }
    // clusters x dimensions floats, row major; unit length when spherical.
    const float *centres() const noexcept { return centres_; }
    // The cluster of each sample (after done).
    const std::uint32_t *assignment() const noexcept { return assignment_; }
    // Samples that changed cluster in the last completed iteration.
    std::uint32_t last_changes() const noexcept { return last_changes_; }

private:
    const float *sample(std::uint32_t i) const noexcept
    {
        return samples_ + static_cast<std::size_t>(i) * params_.dimensions;
    }
    float *centre(std::uint32_t j) noexcept { return centres_ + static_cast<std::size_t>(j) * params_.dimensions; }
    float distance(const float *a, const float *b) const noexcept;
    void update_centre_norm(std::uint32_t j) noexcept;
    struct Nearest {
        std::uint32_t centre;
        float distance;
        float second_distance;
    };
    void two_nearest(std::uint32_t i, std::uint32_t excluded, Nearest *nearest) noexcept;
    std::uint64_t next_random() noexcept;
    std::uint32_t points_per_slice(std::uint64_t cost_per_point) const noexcept;

    void seed_first_centre() noexcept;
    void seeding_slice() noexcept;
    void choose_next_seed() noexcept;
    void fill_remaining_centres(std::uint32_t from) noexcept;
    void full_assignment_slice() noexcept;
    void bounded_assignment_slice() noexcept;
    void separation_slice() noexcept;
    void update_centres() noexcept;
    void fill_empty_slice() noexcept;
    bool fill_empty_cluster(std::uint32_t j) noexcept;
    void finish_assignment_pass() noexcept;

    enum class Step : std::uint8_t { seed, assign_all, separate, assign_bounded, update, fill_empty };

    MemoryHooks hooks_{};
    KmeansParams params_{};
    float *samples_ = nullptr;
    std::uint32_t count_ = 0;
    std::uint64_t work_per_step_ = 0;
    std::uint64_t random_state_ = 0;

    Phase phase_ = Phase::done;
    Step step_ = Step::seed;
    std::uint32_t cursor_ = 0;
    std::uint32_t seeded_ = 0;  // centres chosen so far while seeding
    std::uint32_t iteration_ = 0;
    std::uint32_t changes_ = 0;
    std::uint32_t last_changes_ = 0;
    bool reassigned_ = false;  // this iteration moved samples into empty clusters

    float *centres_ = nullptr;        // clusters x dimensions
    double *sums_ = nullptr;          // clusters x dimensions, new centres being summed
    std::uint32_t *sizes_ = nullptr;  // samples per cluster
    float *movement_ = nullptr;       // how far each centre moved in the last update
    float *separation_ = nullptr;     // half the distance from each centre to its nearest other
    std::uint32_t *assignment_ = nullptr;
    float *upper_ = nullptr;  // bound on the distance to the assigned centre (seeding: D(x)^2)
    float *lower_ = nullptr;  // bound on the distance to every other centre
    float *sample_norms_ = nullptr;  // squared
    float *centre_norms_ = nullptr;  // squared
    float *scratch_ = nullptr;       // distances of one sample to every centre, and the like
    std::uint32_t scratch_size_ = 0;

    static constexpr std::uint32_t kScratchRows = 4096;
};

// Squared norms of `count` centres, as nearest_centre wants them.
void centre_norms(const float *centres, std::uint32_t count, std::uint32_t dimensions, float *norms) noexcept;

// The nearest of `count` centres to `vector` (the first on ties): by L2 distance, given the
// centres' squared norms, or, for spherical centres, by largest inner product, which ranks
// unnormalised vectors by angle as well (norms are not read then and may be null).
std::uint32_t nearest_centre(const float *centres, const float *norms, std::uint32_t count,
                             std::uint32_t dimensions, bool spherical, const float *vector) noexcept;

}  // namespace ann::core
