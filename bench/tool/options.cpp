#include "options.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>

#include "bench_error.hpp"

namespace ann_bench {

const char *const kUsage = R"(usage:
  ann_bench [run] DATASET [options]     benchmark one index on a TEXMEX dataset
  ann_bench plot --out FILE.png RESULT.json [RESULT.json ...]

DATASET is a folder with base.fvecs, query.fvecs, groundtruth.ivecs and a README.md naming
the metric, or the name of such a folder under --data-root.

run options:
  --data-root DIR        where dataset names are looked up (default $ANN_BENCH_DATA_ROOT,
                         else ../shared/data)
  --method hnsw|ivfflat  index method (default hnsw)
  --m N                  hnsw: links per node (default 16)
  --ef-construction N    hnsw: build candidate list (default 64)
  --lists N              ivfflat: number of lists (default rows / 1000, at least 1)
  --ef-search LIST       hnsw.ef_search values (default 10,20,40,80,160,320)
  --probes LIST          ivfflat.probes values (default 1,2,4,8,16,32)
  -k N                   neighbours per query; recall is recall@k (default 10)
  --queries N            use only the first N queries (default all)
  --exact-queries N      queries timed as exact scans, without the index (default 100)
  --warmup N             unmeasured queries before each setting (default 200)
  --force-index          SET enable_seqscan = off while measuring the index: without it a
                         setting whose plan does not use the index fails the run
  --clients N            also run each setting with N concurrent clients (threads)
  --repeat N             measured passes per setting; the pass with the median QPS is
                         reported (default 1; use 3 on a machine shared with other work)
  --dsn CONNINFO         libpq connection string (default: PG* environment variables)
  --database NAME        database to create for the run (default ann_bench; dropped after)
  --keep-database        keep it (with the loaded table; the index is kept too)
  --extension NAME       extension to CREATE (default ann; "vector" runs pgvector)
  --metric l2|ip|cosine  overrides the dataset README's metric
  --out PREFIX           writes PREFIX.md, PREFIX.json, PREFIX.png
                         (default /tmp/ann-bench/DATASET-METHOD)
  --label TEXT           name of this run in plots (default: extension and version)
  --no-plot              skip the PNG (no gnuplot needed)
)";

namespace {

int parse_int(const std::string &option, const std::string &text, int min, int max)
{
    int value = 0;
    const char *end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty())
        throw UsageError(option + ": '" + text + "' is not an integer");
    if (value < min || value > max)
        throw UsageError(option + ": " + text + " is outside " + std::to_string(min) + ".." +
                         std::to_string(max));
    return value;
}

std::vector<int> parse_int_list(const std::string &option, const std::string &text, int min,
                                int max)
{
    std::vector<int> values;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const size_t stop = comma == std::string::npos ? text.size() : comma;
        values.push_back(parse_int(option, text.substr(start, stop - start), min, max));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return values;
}

bool is_directory(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string quote_for_shell(const std::string &arg)
{
    if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=.,/:") == std::string::npos)
        return arg;
    std::string quoted = "'";
    for (char c : arg)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// Reads the value after an option; a missing value is an error, not the next option.
class ArgReader {
public:
    ArgReader(int argc, char **argv, int first) : argc_(argc), argv_(argv), next_(first) {}
    bool done() const { return next_ >= argc_; }
    std::string take() { return argv_[next_++]; }
    std::string value_of(const std::string &option)
    {
        if (done())
            throw UsageError(option + " needs a value");
        return take();
    }

private:
    int argc_;
    char **argv_;
    int next_;
};

Command parse_plot(int argc, char **argv, int first)
{
    Command command;
    command.kind = Command::Kind::plot;
    ArgReader args(argc, argv, first);
    while (!args.done()) {
        const std::string arg = args.take();
        if (arg == "--out")
            command.plot.out_png = args.value_of(arg);
        else if (!arg.empty() && arg[0] == '-')
            throw UsageError("plot: unknown option " + arg);
        else
            command.plot.inputs.push_back(arg);
    }
    if (command.plot.out_png.empty() || command.plot.inputs.empty())
        throw UsageError("plot needs --out FILE.png and at least one RESULT.json");
    return command;
}

Command parse_run(int argc, char **argv, int first)
{
    Command command;
    command.kind = Command::Kind::run;
    RunOptions &run = command.run;
    run.method = "hnsw";
    std::string dataset;
    const char *root_from_environment = std::getenv("ANN_BENCH_DATA_ROOT");
    std::string data_root = root_from_environment ? root_from_environment : "../shared/data";
    int m = 16, ef_construction = 64, lists = 0;
    bool hnsw_option_given = false, ivfflat_option_given = false;
    std::vector<int> ef_search = {10, 20, 40, 80, 160, 320};
    std::vector<int> probes = {1, 2, 4, 8, 16, 32};

    ArgReader args(argc, argv, first);
    while (!args.done()) {
        const std::string arg = args.take();
        if (arg == "--data-root") {
            data_root = args.value_of(arg);
        } else if (arg == "--method") {
            run.method = args.value_of(arg);
            if (run.method != "hnsw" && run.method != "ivfflat")
                throw UsageError("--method: '" + run.method + "' is neither hnsw nor ivfflat");
        } else if (arg == "--m") {
            m = parse_int(arg, args.value_of(arg), 2, 100);
            hnsw_option_given = true;
        } else if (arg == "--ef-construction") {
            ef_construction = parse_int(arg, args.value_of(arg), 4, 1000);
            hnsw_option_given = true;
        } else if (arg == "--ef-search") {
            ef_search = parse_int_list(arg, args.value_of(arg), 1, 1000);
            hnsw_option_given = true;
        } else if (arg == "--lists") {
            lists = parse_int(arg, args.value_of(arg), 1, 32768);
            ivfflat_option_given = true;
        } else if (arg == "--probes") {
            probes = parse_int_list(arg, args.value_of(arg), 1, 32768);
            ivfflat_option_given = true;
        } else if (arg == "-k" || arg == "--k") {
            run.k = parse_int(arg, args.value_of(arg), 1, 1000);
        } else if (arg == "--queries") {
            run.max_queries = parse_int(arg, args.value_of(arg), 1, INT32_MAX);
        } else if (arg == "--exact-queries") {
            run.exact_queries = parse_int(arg, args.value_of(arg), 0, INT32_MAX);
        } else if (arg == "--warmup") {
            run.warmup = parse_int(arg, args.value_of(arg), 0, INT32_MAX);
        } else if (arg == "--clients") {
            run.clients = parse_int(arg, args.value_of(arg), 1, 256);
        } else if (arg == "--repeat") {
            run.repeat = parse_int(arg, args.value_of(arg), 1, 100);
        } else if (arg == "--dsn") {
            run.dsn = args.value_of(arg);
        } else if (arg == "--database") {
            run.database = args.value_of(arg);
        } else if (arg == "--keep-database") {
            run.keep_database = true;
        } else if (arg == "--extension") {
            run.extension = args.value_of(arg);
        } else if (arg == "--metric") {
            run.metric = args.value_of(arg);
        } else if (arg == "--out") {
            run.out_prefix = args.value_of(arg);
        } else if (arg == "--label") {
            run.label = args.value_of(arg);
        } else if (arg == "--force-index") {
            run.force_index = true;
        } else if (arg == "--no-plot") {
            run.plot = false;
        } else if (!arg.empty() && arg[0] == '-') {
            throw UsageError("unknown option " + arg);
        } else if (dataset.empty()) {
            dataset = arg;
        } else {
            throw UsageError("more than one dataset given: " + dataset + " and " + arg);
        }
    }
    if (dataset.empty())
        throw UsageError("no dataset given");
    if (is_directory(dataset))
        run.dataset_path = dataset;
    else if (dataset.find('/') == std::string::npos && is_directory(data_root + "/" + dataset))
        run.dataset_path = data_root + "/" + dataset;
    else
        throw UsageError("dataset '" + dataset + "' is neither a folder nor a folder under " +
                         data_root);

    if (run.method == "hnsw") {
        if (ivfflat_option_given)
            throw UsageError("--lists and --probes are ivfflat options; the method is hnsw");
        if (ef_construction < 2 * m)
            throw UsageError("--ef-construction must be at least twice --m");
        run.index_options = {{"m", m}, {"ef_construction", ef_construction}};
        run.search_setting = "hnsw.ef_search";
        run.search_values = ef_search;
    } else {
        if (hnsw_option_given)
            throw UsageError("--m, --ef-construction and --ef-search are hnsw options; "
                             "the method is ivfflat");
        if (lists != 0)
            run.index_options = {{"lists", lists}};
        run.search_setting = "ivfflat.probes";
        run.search_values = probes;
    }
    for (int i = 0; i < argc; i++)
        run.command_line += (i ? " " : "") + quote_for_shell(argv[i]);
    return command;
}

}  // namespace

Command parse_command_line(int argc, char **argv)
{
    if (argc < 2)
        throw UsageError("nothing to do");
    const std::string first = argv[1];
    if (first == "-h" || first == "--help" || first == "help")
        return Command{};
    if (first == "plot")
        return parse_plot(argc, argv, 2);
    if (first == "run")
        return parse_run(argc, argv, 2);
    return parse_run(argc, argv, 1);
}

}  // namespace ann_bench
