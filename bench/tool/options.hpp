// Command line of ann_bench.
#pragma once

#include <string>
#include <vector>

namespace ann_bench {

struct RunOptions {
    std::string dataset_path;   // resolved folder
    std::string method;         // hnsw | ivfflat
    std::vector<std::pair<std::string, int>> index_options;  // WITH (...) in order
    std::string search_setting;  // hnsw.ef_search | ivfflat.probes
    std::vector<int> search_values;
    int k = 10;
    size_t max_queries = 0;  // 0: all
    size_t exact_queries = 100;
    size_t warmup = 200;
    int clients = 1;
    int repeat = 1;  // measured passes per setting; the median one is reported
    std::string dsn;
    std::string database = "ann_bench";
    bool keep_database = false;
    std::string extension = "ann";
    std::string metric;  // empty: from the dataset's README.md
    std::string out_prefix;
    std::string label;
    bool plot = true;
    bool force_index = false;  // SET enable_seqscan = off in the measuring sessions
    std::string command_line;
};

struct PlotOptions {
    std::string out_png;
    std::vector<std::string> inputs;  // JSON reports
};

struct Command {
    enum class Kind { run, plot, help } kind = Kind::help;
    RunOptions run;
    PlotOptions plot;
};

// Throws BenchError with a usage hint for anything it cannot accept.
Command parse_command_line(int argc, char **argv);

extern const char *const kUsage;

}  // namespace ann_bench
