// ann_bench: recall@k, QPS and latency of an ann index on a TEXMEX dataset, against an exact
// scan of the same table; `ann_bench --help` lists the options. See README.md "Benchmarking".
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench_error.hpp"
#include "benchmark_run.hpp"
#include "options.hpp"
#include "plot.hpp"
#include "report_markdown.hpp"

using namespace ann_bench;

namespace {

void write_file(const std::string &path, const std::string &text)
{
    std::ofstream out(path);
    out << text;
    out.close();
    if (!out)
        throw BenchError("cannot write " + path);
}

std::string default_out_prefix(const RunOptions &opt)
{
    std::string folder = opt.dataset_path;
    while (folder.size() > 1 && folder.back() == '/')
        folder.pop_back();
    return "/tmp/ann-bench/" + folder.substr(folder.find_last_of('/') + 1) + "-" + opt.method;
}

int run(const RunOptions &opt)
{
    const std::string prefix = opt.out_prefix.empty() ? default_out_prefix(opt) : opt.out_prefix;
    const auto out_dir = std::filesystem::path(prefix).parent_path();
    if (!out_dir.empty())
        std::filesystem::create_directories(out_dir);

    const nlohmann::json report = run_benchmark(opt);
    const std::string markdown = report_markdown(report);
    write_file(prefix + ".json", report.dump(1) + "\n");
    write_file(prefix + ".md", markdown);
    std::fputs(markdown.c_str(), stdout);
    std::fprintf(stderr, "ann_bench: wrote %s.json and %s.md\n", prefix.c_str(), prefix.c_str());
    if (opt.plot) {
        plot_reports({prefix + ".json"}, prefix + ".png");
        std::fprintf(stderr, "ann_bench: wrote %s.png\n", prefix.c_str());
    }
    if (!report["failures"].empty()) {
        for (const auto &failure : report["failures"])
            std::fprintf(stderr, "ann_bench: FAILED: %s\n", failure.get<std::string>().c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    try {
        const Command command = parse_command_line(argc, argv);
        switch (command.kind) {
        case Command::Kind::help:
            std::fputs(kUsage, stdout);
            return 0;
        case Command::Kind::plot:
            plot_reports(command.plot.inputs, command.plot.out_png);
            std::fprintf(stderr, "ann_bench: wrote %s\n", command.plot.out_png.c_str());
            return 0;
        case Command::Kind::run:
            return run(command.run);
        }
    } catch (const UsageError &e) {
        std::fprintf(stderr, "ann_bench: %s\n(ann_bench --help lists the options)\n", e.what());
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ann_bench: error: %s\n", e.what());
        return 1;
    }
    return 1;
}
