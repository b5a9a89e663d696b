#include "pg_connection.hpp"

#include <cstring>

#include "bench_error.hpp"

namespace ann_bench {

Connection::Connection(const std::string &dsn, const std::string &database)
{
    // With expand_dbname the first "dbname" is parsed as a whole connection string; a later
    // "dbname" keyword overrides the database it names.
    const char *keywords[] = {"dbname", database.empty() ? nullptr : "dbname", nullptr};
    const char *values[] = {dsn.c_str(), database.c_str(), nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (conn_ == nullptr)
        throw BenchError("out of memory opening a libpq connection");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = PQerrorMessage(conn_);
        PQfinish(conn_);
        conn_ = nullptr;
        throw BenchError("cannot connect to PostgreSQL (" +
                         (dsn.empty() ? std::string("PG* environment") : "dsn '" + dsn + "'") +
                         (database.empty() ? "" : ", database " + database) + "): " + message);
    }
    PQsetNoticeProcessor(conn_, &Connection::collect_notice, this);
}

Connection::~Connection()
{
    if (conn_ != nullptr)
        PQfinish(conn_);
}

void Connection::collect_notice(void *self, const char *message)
{
    static_cast<Connection *>(self)->notices_.emplace_back(message);
}

void Connection::fail(const std::string &what, const PGresult *result) const
{
    std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
    if (message.empty())
        message = PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    throw BenchError(what + " failed: " + message);
}

Result Connection::exec(const std::string &sql)
{
    Result result(PQexec(conn_, sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN)
        fail(sql, result.get());
    return result;
}

std::string Connection::scalar(const std::string &sql)
{
    Result result = exec(sql);
    if (PQntuples(result.get()) < 1 || PQnfields(result.get()) < 1)
        throw BenchError(sql + ": returned no row");
    return PQgetvalue(result.get(), 0, 0);
}

Result Connection::exec_binary(const std::string &sql)
{
    Result result(PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
        fail(sql, result.get());
    return result;
}

void Connection::prepare(const std::string &name, const std::string &sql,
                         const std::vector<Oid> &types)
{
    Result result(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                            types.data()));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
        fail("PREPARE " + sql, result.get());
}

Result Connection::exec_prepared(const std::string &name,
                                 const std::vector<const std::string *> &binary_params)
{
    // At most a handful of parameters: fixed arrays keep this allocation-free per query.
    constexpr size_t kMaxParams = 4;
    if (binary_params.size() > kMaxParams)
        throw BenchError("too many parameters for prepared statement " + name);
    const char *values[kMaxParams];
    int lengths[kMaxParams];
    int formats[kMaxParams];
    for (size_t i = 0; i < binary_params.size(); i++) {
        values[i] = binary_params[i]->data();
        lengths[i] = static_cast<int>(binary_params[i]->size());
        formats[i] = 1;
    }
    Result result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(binary_params.size()),
                                 values, lengths, formats, 1));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY)
        fail("EXECUTE " + name, result.get());
    return result;
}

void Connection::copy_data(const std::string &data)
{
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1)
        fail("COPY data", nullptr);
}

void Connection::copy_end()
{
    if (PQputCopyEnd(conn_, nullptr) != 1)
        fail("COPY end", nullptr);
    Result result(PQgetResult(conn_));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
        fail("COPY", result.get());
    // Drain: libpq returns nullptr once the command is complete.
    while (Result extra{PQgetResult(conn_)})
        ;
}

std::string Connection::quote_identifier(const std::string &name) const
{
    char *quoted = PQescapeIdentifier(conn_, name.c_str(), name.size());
    if (quoted == nullptr)
        fail("quoting identifier " + name, nullptr);
    std::string result = quoted;
    PQfreemem(quoted);
    return result;
}

std::string Connection::quote_literal(const std::string &value) const
{
    char *quoted = PQescapeLiteral(conn_, value.c_str(), value.size());
    if (quoted == nullptr)
        fail("quoting literal", nullptr);
    std::string result = quoted;
    PQfreemem(quoted);
    return result;
}

std::vector<std::string> Connection::take_notices()
{
    std::vector<std::string> taken;
    taken.swap(notices_);
    return taken;
}

bool Connection::is_superuser() const
{
    const char *value = PQparameterStatus(conn_, "is_superuser");
    return value != nullptr && std::strcmp(value, "on") == 0;
}

}  // namespace ann_bench
