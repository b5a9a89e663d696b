#include "query_runner.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "bench_error.hpp"
#include "latency_stats.hpp"
#include "vector_wire.hpp"

namespace ann_bench {

const char *const kQueryStatement = "ann_query";

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double, std::milli>(to - from).count();
}

std::vector<int32_t> result_ids(const PGresult *result)
{
    const int rows = PQntuples(result);
    if (PQnfields(result) < 1)
        throw BenchError("the query returned no column");
    std::vector<int32_t> ids(rows);
    for (int r = 0; r < rows; r++) {
        if (PQgetisnull(result, r, 0) || PQgetlength(result, r, 0) != 4)
            throw BenchError("the query's first column must be a non-NULL int4 id");
        ids[r] = decode_int4(PQgetvalue(result, r, 0));
    }
    return ids;
}

// Lets every client thread finish its warm-up before any starts its measured pass.
class StartGate {
public:
    explicit StartGate(int parties) : waiting_(parties) {}
    // Every thread arrives exactly once, a failed one too, so that none waits forever.
    void arrive()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--waiting_ == 0)
            opened_.notify_all();
    }
    void wait()
    {
        std::unique_lock<std::mutex> lock(mutex_);
        opened_.wait(lock, [this] { return waiting_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    int waiting_;
};

}  // namespace

std::unique_ptr<Connection> open_query_session(const std::string &dsn, const std::string &database,
                                               const std::vector<std::string> &setup,
                                               const QueryWorkload &workload)
{
    auto conn = std::make_unique<Connection>(dsn, database);
    for (const auto &statement : setup)
        conn->exec(statement);
    conn->prepare(kQueryStatement, workload.sql, {workload.vector_type});
    return conn;
}

PassResult run_pass(Connection &conn, const QueryWorkload &workload,
                    const std::vector<size_t> &order)
{
    PassResult pass;
    pass.ids.resize(workload.vectors.size());
    pass.latencies_ms.reserve(order.size());
    std::vector<const std::string *> params(1);
    const auto pass_start = Clock::now();
    for (size_t q : order) {
        params[0] = &workload.vectors[q];
        const auto start = Clock::now();
        Result result = conn.exec_prepared(kQueryStatement, params);
        const auto end = Clock::now();
        pass.latencies_ms.push_back(ms_between(start, end));
        pass.ids[q] = result_ids(result.get());
    }
    pass.seconds = ms_between(pass_start, Clock::now()) / 1000.0;
    return pass;
}

void warm_up(Connection &conn, const QueryWorkload &workload, size_t count)
{
    std::vector<const std::string *> params(1);
    for (size_t i = 0; i < count; i++) {
        params[0] = &workload.vectors[i % workload.vectors.size()];
        conn.exec_prepared(kQueryStatement, params);
    }
}

PassResult run_concurrent(const std::string &dsn, const std::string &database,
                          const std::vector<std::string> &setup, const QueryWorkload &workload,
                          int clients, size_t warmup)
{
    StartGate gate(clients);
    std::vector<PassResult> passes(clients);
    std::vector<Clock::time_point> starts(clients), ends(clients);
    std::vector<std::exception_ptr> failures(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; c++) {
        threads.emplace_back([&, c] {
            bool arrived = false;
            try {
                std::vector<size_t> mine;
                for (size_t q = c; q < workload.vectors.size(); q += clients)
                    mine.push_back(q);
                auto conn = open_query_session(dsn, database, setup, workload);
                warm_up(*conn, workload, warmup / clients + 1);
                arrived = true;
                gate.arrive();
                gate.wait();
                starts[c] = Clock::now();
                passes[c] = run_pass(*conn, workload, mine);
                ends[c] = Clock::now();
            } catch (...) {
                failures[c] = std::current_exception();
                if (!arrived)
                    gate.arrive();
            }
        });
    }
    for (auto &t : threads)
        t.join();
    for (const auto &failure : failures)
        if (failure)
            std::rethrow_exception(failure);

    PassResult merged;
    merged.ids.resize(workload.vectors.size());
    auto first_start = starts[0];
    auto last_end = ends[0];
    for (int c = 0; c < clients; c++) {
        first_start = std::min(first_start, starts[c]);
        last_end = std::max(last_end, ends[c]);
        merged.latencies_ms.insert(merged.latencies_ms.end(), passes[c].latencies_ms.begin(),
                                   passes[c].latencies_ms.end());
        for (size_t q = c; q < workload.vectors.size(); q += clients)
            merged.ids[q] = std::move(passes[c].ids[q]);
    }
    merged.seconds = ms_between(first_start, last_end) / 1000.0;
    return merged;
}

double empty_query_round_trip_us(Connection &conn, int iterations)
{
    const char *name = "ann_bench_empty";
    conn.prepare(name, "", {});
    const std::vector<const std::string *> no_params;
    std::vector<double> latencies_ms;
    for (int i = 0; i < iterations; i++) {
        const auto start = Clock::now();
        conn.exec_prepared(name, no_params);
        latencies_ms.push_back(ms_between(start, Clock::now()));
    }
    return summarize_latencies(std::move(latencies_ms)).p50_ms * 1000.0;
}

std::vector<size_t> all_queries(const QueryWorkload &workload)
{
    std::vector<size_t> order(workload.vectors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    return order;
}

}  // namespace ann_bench
