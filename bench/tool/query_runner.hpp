// Timed execution of the nearest-neighbour query: one prepared statement, the query vector as
// a binary parameter, ids as binary results, so the client adds as little as it can to each
// query's time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pg_connection.hpp"

namespace ann_bench {

struct QueryWorkload {
    std::string sql;                   // SELECT id FROM ... ORDER BY v <op> $1 LIMIT k
    Oid vector_type = 0;
    std::vector<std::string> vectors;  // each query's vector in binary wire format
    std::string first_literal;         // the first query as text, for EXPLAIN EXECUTE
};

extern const char *const kQueryStatement;  // name of the prepared statement

struct PassResult {
    double seconds = 0;                     // wall time of the whole pass
    std::vector<double> latencies_ms;       // execute + fetch, per query run
    std::vector<std::vector<int32_t>> ids;  // per query of the workload (empty if not run)
};

// A new connection to `database` that has run `setup` (e.g. SET statements) and prepared
// the query statement.
std::unique_ptr<Connection> open_query_session(const std::string &dsn, const std::string &database,
                                               const std::vector<std::string> &setup,
                                               const QueryWorkload &workload);

// Runs the queries numbered in `order`, one after another.
PassResult run_pass(Connection &conn, const QueryWorkload &workload,
                    const std::vector<size_t> &order);

// Runs `count` queries (cycling through the workload) without keeping anything: loads the
// index and table pages a pass will touch, and the extension library whose settings it uses.
void warm_up(Connection &conn, const QueryWorkload &workload, size_t count);

// Every query once, dealt round robin to `clients` threads with a session each; the
// threads start their measured passes together. seconds spans first start to last end.
PassResult run_concurrent(const std::string &dsn, const std::string &database,
                          const std::vector<std::string> &setup, const QueryWorkload &workload,
                          int clients, size_t warmup);

// Median client round trip of an empty prepared statement: the floor under every latency.
// The median, because on a shared machine a few calls wait for a CPU.
double empty_query_round_trip_us(Connection &conn, int iterations);

std::vector<size_t> all_queries(const QueryWorkload &workload);

}  // namespace ann_bench
