// A libpq connection that throws BenchError whenever the server reports a failure, so that
// no caller can forget to look at a result status.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

namespace ann_bench {

struct ResultDeleter {
    void operator()(PGresult *result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class Connection {
public:
    // dsn is a libpq connection string (empty: PG* environment variables); a non-empty
    // database overrides the database the dsn names.
    Connection(const std::string &dsn, const std::string &database);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Runs one statement (text results); a status other than success throws. A
    // COPY ... FROM STDIN succeeds by entering COPY mode: follow it with copy_data/copy_end.
    Result exec(const std::string &sql);
    // First column of the first row as text; throws when there is no row.
    std::string scalar(const std::string &sql);
    // One statement without parameters whose results come back in binary.
    Result exec_binary(const std::string &sql);
    void prepare(const std::string &name, const std::string &sql, const std::vector<Oid> &types);
    // Executes a prepared statement with binary parameters and binary results.
    Result exec_prepared(const std::string &name, const std::vector<const std::string *> &binary_params);
    // Streams raw COPY FROM STDIN data for a COPY statement already started with exec().
    void copy_data(const std::string &data);
    void copy_end();

    std::string quote_identifier(const std::string &name) const;
    std::string quote_literal(const std::string &value) const;
    // Server notices (e.g. index build warnings) received since the last call.
    std::vector<std::string> take_notices();
    bool is_superuser() const;

private:
    [[noreturn]] void fail(const std::string &what, const PGresult *result) const;
    static void collect_notice(void *self, const char *message);

    PGconn *conn_ = nullptr;
    std::vector<std::string> notices_;
};

}  // namespace ann_bench
