#include "report_markdown.hpp"

#include <cstdio>

namespace ann_bench {

using nlohmann::json;

namespace {

std::string format(const char *pattern, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

std::string bytes_text(double bytes)
{
    if (bytes < 1024 * 1024)
        return format("%.0f kB", bytes / 1024);
    if (bytes < 1024.0 * 1024 * 1024)
        return format("%.1f MB", bytes / (1024 * 1024));
    return format("%.2f GB", bytes / (1024.0 * 1024 * 1024));
}

// 200000 -> "200,000"
std::string grouped(long long value)
{
    std::string digits = std::to_string(value);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(static_cast<size_t>(at), ",");
    return digits;
}

std::string results_table(const json &report)
{
    const int k = report["dataset"]["k"].get<int>();
    const bool have_exact = !report["exact"].is_null();
    std::string md = "| setting | clients | recall@" + std::to_string(k) +
                     " | QPS | " + (have_exact ? "QPS / exact | " : "") +
                     "p50 ms | p99 ms | short | index used |\n";
    md += std::string("|---|---:|---:|---:|") + (have_exact ? "---:|" : "") +
          "---:|---:|---:|---|\n";
    for (const auto &r : report["results"]) {
        md += "| `" + r["setting"]["name"].get<std::string>() + " = " +
              std::to_string(r["setting"]["value"].get<int>()) + "` | " +
              std::to_string(r["clients"].get<int>()) + " | " +
              format("%.4f", r["recall"].get<double>()) + " | " +
              format("%.1f", r["qps"].get<double>()) + " | ";
        if (have_exact)
            md += format("%.1f", r["qps_vs_exact"].get<double>()) + " | ";
        md += format("%.2f", r["p50_ms"].get<double>()) + " | " +
              format("%.2f", r["p99_ms"].get<double>()) + " | " +
              std::to_string(r["short_queries"].get<long long>()) + " | " +
              (r["index_used"].get<bool>() ? "yes" : "**NO**") + " |\n";
    }
    if (have_exact) {
        const json &e = report["exact"];
        md += "| exact scan (" + std::to_string(e["queries"].get<long long>()) + " queries) | 1 | " +
              format("%.4f", e["recall"].get<double>()) + " | " +
              format("%.1f", e["qps"].get<double>()) + " | 1.0 | " +
              format("%.2f", e["p50_ms"].get<double>()) + " | " +
              format("%.2f", e["p99_ms"].get<double>()) + " | - | no: " +
              e["plan"].get<std::string>() + " |\n";
    }
    return md;
}

}  // namespace

std::string report_markdown(const json &report)
{
    const json &d = report["dataset"];
    const json &s = report["server"];
    const json &load = report["load"];
    const json &index = report["index"];
    std::string md = "# " + report["label"].get<std::string>() + ": " +
                     report["series"].get<std::string>() + " on " + d["name"].get<std::string>() +
                     "\n\n";
    md += "- dataset: " + d["name"].get<std::string>() + ", " +
          grouped(d["rows"].get<long long>()) + " rows x " + std::to_string(d["dim"].get<int>()) +
          " dimensions, metric " + d["metric"].get<std::string>() + " (`" +
          d["operator"].get<std::string>() + "`, " + d["opclass"].get<std::string>() + "), " +
          grouped(d["queries"].get<long long>()) + " queries, recall@" +
          std::to_string(d["k"].get<int>()) + " against groundtruth.ivecs\n";
    md += "- host: " + report["host"]["cpu"].get<std::string>() + ", " +
          std::to_string(report["host"]["cores"].get<int>()) +
          " cores, client on the same host; empty-query round trip (median) " +
          format("%.0f", report["round_trip_us"].get<double>()) + " us\n";
    md += "- PostgreSQL " + s["server_version"].get<std::string>() + ": shared_buffers " +
          s["shared_buffers"].get<std::string>() + ", maintenance_work_mem " +
          s["maintenance_work_mem"].get<std::string>() + ", max_parallel_maintenance_workers " +
          s["max_parallel_maintenance_workers"].get<std::string>() +
          ", max_parallel_workers_per_gather " +
          s["max_parallel_workers_per_gather"].get<std::string>() + ", jit " +
          s["jit"].get<std::string>() + "; extension " +
          report["extension"]["name"].get<std::string>() + " " +
          report["extension"]["version"].get<std::string>() + "\n";
    md += "- load: " + format("%.1f", load["seconds"].get<double>()) + " s (" +
          load["format"].get<std::string>() + ", primary key included); table " +
          bytes_text(load["table_bytes"].get<double>()) + ", " +
          bytes_text(load["table_total_bytes"].get<double>()) + " with TOAST\n";
    md += "- index: `" + index["ddl"].get<std::string>() + "` built in " +
          format("%.1f", index["build_seconds"].get<double>()) + " s, " +
          bytes_text(index["index_bytes"].get<double>()) + "\n";
    for (const auto &notice : index["notices"])
        md += "  - server notice: " + notice.get<std::string>();
    md += "- query: `" + report["query"].get<std::string>() +
          "`, prepared, binary parameter and results; " +
          std::to_string(report["warmup_queries"].get<long long>()) +
          " warm-up queries per setting" +
          (report["repeat"].get<int>() > 1
               ? "; the median of " + std::to_string(report["repeat"].get<int>()) +
                     " measured passes (by QPS)"
               : std::string()) +
          (report["force_index"].get<bool>() ? "; enable_seqscan = off while measuring the index"
                                             : "") +
          "; QPS = queries / wall time of one pass, latency = "
          "client time of execute + fetch\n";
    md += "- " + report["date"].get<std::string>() + ": `" + report["command"].get<std::string>() +
          "`\n\n";
    md += results_table(report);
    for (const auto &failure : report["failures"])
        md += "\nFAILED: " + failure.get<std::string>() + "\n";
    return md;
}

}  // namespace ann_bench
