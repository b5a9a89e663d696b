// The exception types of the benchmark tool: every failure is fatal, reaches main() with a
// message that says what went wrong, and turns into a non-zero exit status.
#pragma once

#include <stdexcept>

namespace ann_bench {

class BenchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A command line the tool cannot accept (exit status 2, with a pointer to --help).
class UsageError : public BenchError {
public:
    using BenchError::BenchError;
};

}  // namespace ann_bench
