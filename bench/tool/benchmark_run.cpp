#include "benchmark_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "bench_error.hpp"
#include "dataset.hpp"
#include "latency_stats.hpp"
#include "pg_connection.hpp"
#include "query_plan.hpp"
#include "query_runner.hpp"
#include "recall.hpp"
#include "vector_wire.hpp"

namespace ann_bench {

using nlohmann::json;

namespace {

const char *const kTable = "items";
const char *const kIndex = "ann_bench_index";
// An exact scan that misses more than this fraction of the ground truth means the metric,
// operator or ground truth is wrong, and every recall figure after it would be meaningless.
constexpr double kMinExactRecall = 0.99;
constexpr int kRoundTripIterations = 2000;
constexpr size_t kCopyChunkBytes = 8 << 20;

const char *const kServerSettings[] = {
    "server_version", "shared_buffers", "work_mem", "maintenance_work_mem",
    "max_parallel_maintenance_workers", "max_parallel_workers_per_gather", "jit",
    "effective_cache_size", "fsync",
};

void progress(const std::string &message)
{
    std::fprintf(stderr, "ann_bench: %s\n", message.c_str());
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

std::string hostname()
{
    char name[256] = {};
    return gethostname(name, sizeof name - 1) == 0 ? name : "unknown";
}

std::string local_time_iso()
{
    const std::time_t now = std::time(nullptr);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    return text;
}

// %.9g reads back through strtof to the same float, so the literal is the exact query.
std::string vector_literal(const float *values, int dim)
{
    std::string text = "[";
    char number[32];
    for (int i = 0; i < dim; i++) {
        std::snprintf(number, sizeof number, "%.9g", values[i]);
        text += (i ? "," : "") + std::string(number);
    }
    return text + "]";
}

void recreate_database(const RunOptions &opt)
{
    Connection admin(opt.dsn, "");
    const std::string name = admin.quote_identifier(opt.database);
    admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    admin.exec("CREATE DATABASE " + name);
}

void drop_database(const RunOptions &opt)
{
    Connection admin(opt.dsn, "");
    admin.exec("DROP DATABASE IF EXISTS " + admin.quote_identifier(opt.database) + " WITH (FORCE)");
}

// After a failure: the failure is what the user must see, so a failed cleanup only warns.
void drop_database_after_failure(const RunOptions &opt)
{
    try {
        drop_database(opt);
    } catch (const BenchError &e) {
        progress(std::string("could not drop the benchmark database: ") + e.what());
    }
}

// Flushes the load's dirty pages so that a later checkpoint does not land inside a timing.
// Only superusers (or pg_checkpoint members) may; others just skip this nicety.
void checkpoint_if_allowed(Connection &db)
{
    if (db.is_superuser())
        db.exec("CHECKPOINT");
}

bool prewarm_available(Connection &db)
{
    try {
        db.exec("CREATE EXTENSION IF NOT EXISTS pg_prewarm");
        return true;
    } catch (const BenchError &e) {
        progress(std::string("pg_prewarm unavailable, relying on warm-up queries: ") + e.what());
        return false;
    }
}

json load_table(Connection &db, const Dataset &data)
{
    const int dim = data.base.cols;
    db.exec(std::string("CREATE TABLE ") + kTable + " (id int4, v vector(" + std::to_string(dim) +
            "))");
    const auto start = std::chrono::steady_clock::now();
    db.exec("BEGIN");
    db.exec(std::string("COPY ") + kTable + " (id, v) FROM STDIN (FORMAT binary)");
    std::string chunk;
    append_copy_header(chunk);
    for (size_t i = 0; i < data.base.rows; i++) {
        append_copy_row(chunk, static_cast<int32_t>(i), data.base.row(i), dim);
        if (chunk.size() >= kCopyChunkBytes) {
            db.copy_data(chunk);
            chunk.clear();
        }
    }
    append_copy_trailer(chunk);
    db.copy_data(chunk);
    db.copy_end();
    db.exec("COMMIT");
    const double copy_seconds = seconds_since(start);
    db.exec(std::string("ALTER TABLE ") + kTable + " ADD PRIMARY KEY (id)");
    const double load_seconds = seconds_since(start);
    db.exec(std::string("VACUUM (ANALYZE) ") + kTable);

    const std::string count = db.scalar(std::string("SELECT count(*) FROM ") + kTable);
    if (count != std::to_string(data.base.rows))
        throw BenchError("loaded " + count + " rows, expected " + std::to_string(data.base.rows));
    // The stored bytes must be the file's floats: a wire format mistake would otherwise
    // surface only as mysteriously bad recall.
    for (size_t id : {size_t{0}, data.base.rows / 2, data.base.rows - 1}) {
        Result row = db.exec_binary(std::string("SELECT v FROM ") + kTable + " WHERE id = " +
                                    std::to_string(id));
        const std::string expected = encode_vector(data.base.row(id), dim);
        if (PQntuples(row.get()) != 1 ||
            std::string(PQgetvalue(row.get(), 0, 0), PQgetlength(row.get(), 0, 0)) != expected)
            throw BenchError("row " + std::to_string(id) +
                             " does not read back as the vector base.fvecs holds");
    }
    return {{"format", "binary COPY"},
            {"copy_seconds", copy_seconds},
            {"seconds", load_seconds},
            {"table_bytes", std::stoll(db.scalar(std::string("SELECT pg_relation_size('") +
                                                 kTable + "')"))},
            {"table_total_bytes", std::stoll(db.scalar(std::string("SELECT pg_table_size('") +
                                                       kTable + "')"))}};
}

QueryWorkload make_workload(Connection &db, const Dataset &data, int k)
{
    QueryWorkload w;
    w.sql = std::string("SELECT id FROM ") + kTable + " ORDER BY v " + data.metric.op +
            " $1 LIMIT " + std::to_string(k);
    w.vector_type = static_cast<Oid>(std::stoul(db.scalar("SELECT 'vector'::regtype::oid")));
    for (size_t q = 0; q < data.queries.rows; q++)
        w.vectors.push_back(encode_vector(data.queries.row(q), data.queries.cols));
    w.first_literal = vector_literal(data.queries.row(0), data.queries.cols);
    return w;
}

std::string explain_statement(const QueryWorkload &w)
{
    return std::string("EXECUTE ") + kQueryStatement + "('" + w.first_literal + "')";
}

json timing_fields(const PassResult &pass, size_t queries)
{
    const LatencySummary lat = summarize_latencies(pass.latencies_ms);
    return {{"queries", queries},
            {"seconds", pass.seconds},
            {"qps", static_cast<double>(queries) / pass.seconds},
            {"p50_ms", lat.p50_ms},
            {"p99_ms", lat.p99_ms},
            {"mean_ms", lat.mean_ms},
            {"max_ms", lat.max_ms}};
}

json measure_exact(const RunOptions &opt, const Dataset &data, const QueryWorkload &w)
{
    const size_t n = std::min(opt.exact_queries, w.vectors.size());
    progress("exact scan over " + std::to_string(n) + " queries");
    // The reference must be a full scan even if the table had an index on v.
    auto session = open_query_session(opt.dsn, opt.database,
                                      {"SET enable_indexscan = off", "SET enable_bitmapscan = off"},
                                      w);
    warm_up(*session, w, std::min<size_t>(n, 3));
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    const PassResult pass = run_pass(*session, w, order);
    const QueryPlan plan = explain(*session, explain_statement(w));
    if (plan.uses_any_index())
        throw BenchError("the exact scan's plan reads an index: " + plan.describe());
    const std::vector<std::vector<int32_t>> ids(pass.ids.begin(), pass.ids.begin() + n);
    const RecallSummary recall = measure_recall(ids, data.groundtruth, opt.k);
    if (recall.recall < kMinExactRecall)
        throw BenchError("the exact scan's recall@" + std::to_string(opt.k) + " is " +
                         std::to_string(recall.recall) + ": groundtruth.ivecs does not match "
                         "metric " + data.metric.name + " (" + data.metric.op +
                         "); pass the right --metric");
    json exact = timing_fields(pass, n);
    exact["recall"] = recall.recall;
    exact["plan"] = plan.describe();
    return exact;
}

std::string index_ddl(const RunOptions &opt, const Dataset &data,
                      const std::vector<std::pair<std::string, int>> &options)
{
    std::string ddl = std::string("CREATE INDEX ") + kIndex + " ON " + kTable + " USING " +
                      opt.method + " (v " + data.metric.opclass + ")";
    std::string with;
    for (const auto &[name, value] : options)
        with += (with.empty() ? "" : ", ") + name + " = " + std::to_string(value);
    return with.empty() ? ddl : ddl + " WITH (" + with + ")";
}

json build_index(Connection &db, const RunOptions &opt, const Dataset &data, bool prewarm)
{
    std::vector<std::pair<std::string, int>> options = opt.index_options;
    if (opt.method == "ivfflat" && options.empty())
        options = {{"lists", std::max<int>(1, static_cast<int>(data.base.rows / 1000))}};
    const std::string ddl = index_ddl(opt, data, options);
    progress(ddl);
    db.take_notices();
    const auto start = std::chrono::steady_clock::now();
    db.exec(ddl);
    const double build_seconds = seconds_since(start);
    json index = {{"method", opt.method},
                  {"options", json::object()},
                  {"ddl", ddl},
                  {"name", kIndex},
                  {"build_seconds", build_seconds},
                  {"notices", db.take_notices()}};
    std::string series = opt.method;
    for (const auto &[name, value] : options) {
        index["options"][name] = value;
        series += " " + name + "=" + std::to_string(value);
    }
    index["series"] = series;
    index["index_bytes"] =
        std::stoll(db.scalar(std::string("SELECT pg_relation_size('") + kIndex + "')"));
    progress("built in " + std::to_string(build_seconds) + " s");
    checkpoint_if_allowed(db);
    if (prewarm)
        db.exec(std::string("SELECT pg_prewarm('") + kIndex + "')");
    return index;
}

// Runs the setting's SET and proves that the server knows the name: a misspelled custom
// setting would otherwise be kept as a silent placeholder.
void check_setting_applied(Connection &session, const std::string &name, int value)
{
    Result shown = session.exec("SELECT setting FROM pg_settings WHERE name = " +
                                session.quote_literal(name));
    if (PQntuples(shown.get()) != 1)
        throw BenchError("the server has no setting " + name + " (is the extension loaded?)");
    if (std::string(PQgetvalue(shown.get(), 0, 0)) != std::to_string(value))
        throw BenchError(name + " is " + PQgetvalue(shown.get(), 0, 0) + " after SET to " +
                         std::to_string(value));
}

// Of `repeat` passes, the one with the median QPS: other work on a shared machine slows
// single passes down, and the median ignores a disturbed minority.
template <typename RunOnePass>
PassResult median_pass(int repeat, RunOnePass run_one_pass, json &all_qps)
{
    std::vector<PassResult> passes;
    for (int i = 0; i < repeat; i++) {
        passes.push_back(run_one_pass());
        all_qps.push_back(static_cast<double>(passes.back().latencies_ms.size()) /
                          passes.back().seconds);
    }
    std::sort(passes.begin(), passes.end(),
              [](const PassResult &a, const PassResult &b) { return a.seconds < b.seconds; });
    return std::move(passes[passes.size() / 2]);
}

json measure_result(const PassResult &pass, const QueryWorkload &w, const Dataset &data,
                    int k, const json &exact, int clients)
{
    json r = timing_fields(pass, w.vectors.size());
    const RecallSummary recall = measure_recall(pass.ids, data.groundtruth, k);
    r["clients"] = clients;
    r["recall"] = recall.recall;
    r["short_queries"] = recall.short_queries;
    if (!exact.is_null())
        r["qps_vs_exact"] = r["qps"].get<double>() / exact["qps"].get<double>();
    return r;
}

json measure_setting(const RunOptions &opt, const Dataset &data, const QueryWorkload &w,
                     int value, const json &exact, json &failures)
{
    const std::string set = "SET " + opt.search_setting + " = " + std::to_string(value);
    std::vector<std::string> setup = {set};
    if (opt.force_index)
        setup.push_back("SET enable_seqscan = off");
    auto session = open_query_session(opt.dsn, opt.database, setup, w);
    // The warm-up's first query also loads the extension library, which defines the setting.
    warm_up(*session, w, std::max<size_t>(opt.warmup, 1));
    check_setting_applied(*session, opt.search_setting, value);
    json passes_qps = json::array();
    const PassResult pass = median_pass(
        opt.repeat, [&] { return run_pass(*session, w, all_queries(w)); }, passes_qps);
    // Explained after the pass, when the plan cache has settled on the plan the pass used.
    const QueryPlan plan = explain(*session, explain_statement(w));
    const bool index_used = plan.uses_index(kIndex);
    if (!index_used)
        failures.push_back(set + ": the plan does not use " + kIndex + ": " + plan.describe());

    json single = measure_result(pass, w, data, opt.k, exact, 1);
    single["setting"] = {{"name", opt.search_setting}, {"value", value}};
    single["plan"] = plan.describe();
    single["index_used"] = index_used;
    single["passes_qps"] = passes_qps;
    progress(set + ": recall " + std::to_string(single["recall"].get<double>()) + ", QPS " +
             std::to_string(single["qps"].get<double>()) + ", plan " + plan.describe());
    json results = json::array({single});
    if (opt.clients > 1) {
        json concurrent_qps = json::array();
        const PassResult together = median_pass(
            opt.repeat,
            [&] { return run_concurrent(opt.dsn, opt.database, setup, w, opt.clients, opt.warmup); },
            concurrent_qps);
        json concurrent = measure_result(together, w, data, opt.k, exact, opt.clients);
        concurrent["passes_qps"] = concurrent_qps;
        concurrent["setting"] = single["setting"];
        concurrent["plan"] = single["plan"];
        concurrent["index_used"] = index_used;
        progress("  " + std::to_string(opt.clients) + " clients: QPS " +
                 std::to_string(concurrent["qps"].get<double>()));
        results.push_back(concurrent);
    }
    return results;
}

json describe_dataset(const Dataset &data, int k)
{
    return {{"name", data.name},
            {"path", data.path},
            {"metric", data.metric.name},
            {"metric_source", data.metric_source},
            {"operator", data.metric.op},
            {"opclass", data.metric.opclass},
            {"rows", data.base.rows},
            {"dim", data.base.cols},
            {"queries", data.queries.rows},
            {"k", k}};
}

json run_in_database(const RunOptions &opt, const Dataset &data, json report)
{
    Connection db(opt.dsn, opt.database);
    db.exec("CREATE EXTENSION " + db.quote_identifier(opt.extension));
    const std::string version = db.scalar(
        "SELECT extversion FROM pg_extension WHERE extname = " + db.quote_literal(opt.extension));
    report["extension"] = {{"name", opt.extension}, {"version", version}};
    if (report["label"].get<std::string>().empty())
        report["label"] = opt.extension + " " + version;
    for (const char *name : kServerSettings)
        report["server"][name] = db.scalar(std::string("SELECT current_setting('") + name + "')");
    report["round_trip_us"] = empty_query_round_trip_us(db, kRoundTripIterations);

    progress("loading " + std::to_string(data.base.rows) + " rows into " + opt.database);
    report["load"] = load_table(db, data);
    checkpoint_if_allowed(db);
    const bool prewarm = prewarm_available(db);
    if (prewarm)
        db.exec(std::string("SELECT pg_prewarm('") + kTable + "')");
    report["prewarm"] = prewarm;

    const QueryWorkload workload = make_workload(db, data, opt.k);
    report["query"] = workload.sql;
    report["repeat"] = opt.repeat;
    report["force_index"] = opt.force_index;
    report["exact"] = opt.exact_queries > 0 ? measure_exact(opt, data, workload) : json();
    report["index"] = build_index(db, opt, data, prewarm);
    report["series"] = report["index"]["series"];
    report["results"] = json::array();
    for (int value : opt.search_values)
        for (auto &row : measure_setting(opt, data, workload, value, report["exact"],
                                         report["failures"]))
            report["results"].push_back(row);
    return report;
}

}  // namespace

json run_benchmark(const RunOptions &opt)
{
    const Dataset data = load_dataset(opt.dataset_path, opt.metric, opt.max_queries, opt.k);
    progress("dataset " + data.name + ": " + std::to_string(data.base.rows) + " x " +
             std::to_string(data.base.cols) + ", " + std::to_string(data.queries.rows) +
             " queries, metric " + data.metric.name + " (" + data.metric.op + ")");
    json report = {{"tool", "ann_bench"},
                   {"format_version", 1},
                   {"label", opt.label},
                   {"date", local_time_iso()},
                   {"command", opt.command_line},
                   {"host", {{"hostname", hostname()},
                             {"cpu", cpu_model()},
                             {"cores", std::thread::hardware_concurrency()}}},
                   {"dataset", describe_dataset(data, opt.k)},
                   {"warmup_queries", opt.warmup},
                   {"failures", json::array()}};
    recreate_database(opt);
    try {
        report = run_in_database(opt, data, std::move(report));
    } catch (...) {
        if (!opt.keep_database)
            drop_database_after_failure(opt);
        throw;
    }
    if (!opt.keep_database)
        drop_database(opt);
    return report;
}

}  // namespace ann_bench
