#include "plot.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bench_error.hpp"

namespace ann_bench {

using nlohmann::json;

namespace {

struct Curve {
    std::string title;
    std::string points;  // gnuplot data lines: recall qps label
};

json read_report(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw BenchError("cannot open " + path);
    try {
        json report = json::parse(in);
        if (report.value("tool", "") != "ann_bench")
            throw BenchError(path + " is not an ann_bench report");
        return report;
    } catch (const json::exception &e) {
        throw BenchError(path + ": not valid JSON: " + e.what());
    }
}

// gnuplot single-quoted string: only the quote itself needs escaping, by doubling.
std::string gnuplot_string(const std::string &text)
{
    std::string quoted = "'";
    for (char c : text)
        quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
}

std::string data_line(double recall, double qps, const std::string &label)
{
    char line[128];
    std::snprintf(line, sizeof line, "%.6f %.3f \"%s\"\n", recall, qps, label.c_str());
    return line;
}

// run_name tells the reports apart in the key: the label, plus the dataset when the
// reports cover several.
std::vector<Curve> curves_of(const json &report, const std::string &run_name)
{
    std::map<int, Curve> by_clients;
    const std::string run = run_name + ": " + report["series"].get<std::string>();
    for (const auto &r : report["results"]) {
        const int clients = r["clients"].get<int>();
        Curve &curve = by_clients[clients];
        curve.title = run + (clients > 1 ? " (" + std::to_string(clients) + " clients)" : "");
        curve.points += data_line(r["recall"].get<double>(), r["qps"].get<double>(),
                                  std::to_string(r["setting"]["value"].get<int>()));
    }
    std::vector<Curve> curves;
    for (auto &[clients, curve] : by_clients)
        curves.push_back(std::move(curve));
    if (!report["exact"].is_null())
        curves.push_back({run_name + ": exact scan",
                          data_line(report["exact"]["recall"].get<double>(),
                                    report["exact"]["qps"].get<double>(), "exact")});
    return curves;
}

}  // namespace

void plot_reports(const std::vector<std::string> &json_paths, const std::string &png_path)
{
    std::vector<json> reports;
    std::set<std::string> datasets;
    std::set<int> ks;
    for (const auto &path : json_paths) {
        reports.push_back(read_report(path));
        datasets.insert(reports.back()["dataset"]["name"].get<std::string>());
        ks.insert(reports.back()["dataset"]["k"].get<int>());
    }
    std::vector<Curve> curves;
    for (const auto &report : reports) {
        std::string run_name = report["label"].get<std::string>();
        if (datasets.size() > 1)
            run_name += " on " + report["dataset"]["name"].get<std::string>();
        for (auto &curve : curves_of(report, run_name))
            curves.push_back(std::move(curve));
    }
    if (ks.size() != 1)
        throw BenchError("the reports measure recall at different k; plot them separately");
    const std::string recall_name = "recall@" + std::to_string(*ks.begin());
    std::string dataset_names;
    for (const auto &name : datasets)
        dataset_names += (dataset_names.empty() ? "" : ", ") + name;

    std::string script = "set terminal pngcairo size 880,560 font ',10' noenhanced\n";
    script += "set output " + gnuplot_string(png_path) + "\n";
    script += "set title " + gnuplot_string(recall_name + " vs QPS on " + dataset_names +
                                            " (up and right is better)") + "\n";
    script += "set xlabel " + gnuplot_string(recall_name) + "\n";
    // Room right of recall 1.0, where the exact scan's point sits.
    script += "set xrange [*:1.02]\n";
    script += "set ylabel 'queries per second (log scale)'\nset logscale y\nset grid\n";
    script += "set key outside bottom center horizontal maxrows 3\n";
    for (size_t i = 0; i < curves.size(); i++)
        script += "$curve" + std::to_string(i) + " << EOD\n" + curves[i].points + "EOD\n";
    script += "plot ";
    for (size_t i = 0; i < curves.size(); i++) {
        // An explicit line type per curve: the labels would otherwise use up colours.
        const std::string block = "$curve" + std::to_string(i);
        const std::string line_type = std::to_string(i + 1);
        script += (i ? ", \\\n     " : "") + block + " using 1:2 with linespoints lt " +
                  line_type + " lw 2 pt 7 title " + gnuplot_string(curves[i].title) + ", " +
                  block + " using 1:2:3 with labels tc lt " + line_type +
                  " offset 0.6,0.6 font ',8' notitle";
    }
    script += "\n";

    FILE *gnuplot = popen("gnuplot", "w");
    if (gnuplot == nullptr)
        throw BenchError("cannot start gnuplot (install gnuplot-nox)");
    std::fwrite(script.data(), 1, script.size(), gnuplot);
    const int status = pclose(gnuplot);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw BenchError(WIFEXITED(status) && WEXITSTATUS(status) == 127
                             ? "gnuplot is not installed (Debian package gnuplot-nox)"
                             : "gnuplot failed to draw " + png_path);
}

}  // namespace ann_bench
