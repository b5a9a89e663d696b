# ann: PGXS build. `make && make install`, `make installcheck` (pg_regress),
# `make core-test` (pure C++ unit tests), `make bench-kernels` (kernel throughput).

EXTENSION = ann
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" ann.control)
MODULE_big = ann
DATA = $(wildcard sql/ann--*.sql)

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS = $(sort $(wildcard src/pg/*.cpp))
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
OBJS = $(CORE_OBJS) $(PG_SRCS:.cpp=.o)

# Every sql/*.sql except the install and upgrade scripts is a regression test.
REGRESS = $(filter-out ann--%,$(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)

# -isystem marks the server headers as system headers, so their C-isms do not warn under C++.
PG_CONFIG ?= pg_config
SERVER_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)
PG_CPPFLAGS = -isystem $(SERVER_INCLUDE) -Isrc
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -Wno-missing-field-initializers -fno-math-errno $(ANN_EXTRA_CXXFLAGS)
SHLIB_LINK += -lstdc++

# Debian's server is built with LLVM: PGXS would also compile every .cpp to bitcode with
# clang, without our flags. The extension gains nothing from JIT inlining, so skip it.
override with_llvm = no

EXTRA_CLEAN = test/core/run_core_tests bench/bench_kernels

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Core objects must never see Postgres headers: build them without the server include path.
$(CORE_OBJS): override CPPFLAGS = -Isrc

# Headers change struct layouts: rebuild everything that may include them.
$(OBJS): $(wildcard src/core/*.h src/pg/*.hpp)

CORE_TEST_SRCS = $(sort $(wildcard test/core/*.cpp))
CORE_TOOL_FLAGS = -std=c++17 -O2 -g -Wall -Wextra -Isrc

test/core/run_core_tests: $(CORE_TEST_SRCS) $(CORE_OBJS)
	$(CXX) $(CORE_TOOL_FLAGS) -o $@ $(CORE_TEST_SRCS) $(CORE_OBJS) -lgtest -lgtest_main -pthread

core-test: test/core/run_core_tests
	test/core/run_core_tests

bench/bench_kernels: bench/bench_kernels.cpp $(CORE_OBJS)
	$(CXX) $(CORE_TOOL_FLAGS) -o $@ $< $(CORE_OBJS) -lbenchmark -pthread

bench-kernels: bench/bench_kernels
	bench/bench_kernels

.PHONY: core-test bench-kernels

# The benchmark command (README "Benchmarking"): a libpq client program, not part of the
# extension; `make bench-tool` builds bench/ann_bench, scripts/bench.sh builds and runs it.
BENCH_TOOL_SRCS = $(sort $(wildcard bench/tool/*.cpp))
EXTRA_CLEAN += bench/ann_bench

bench/ann_bench: $(BENCH_TOOL_SRCS) $(wildcard bench/tool/*.hpp)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		$(BENCH_TOOL_SRCS) -L$(shell $(PG_CONFIG) --libdir) -lpq -pthread

bench-tool: bench/ann_bench

.PHONY: bench-tool

# `make dist`: ann-<version>.tar.gz, one folder ann-<version>/ holding what `make && make
# install` need, taken from the working tree (uncommitted sources included, so check
# `git status` before a release). test/packaging/dist_builds.sh checks that it builds alone.
DIST_NAME = $(EXTENSION)-$(EXTVERSION)
DIST_FILES = Makefile $(EXTENSION).control META.json README.md LICENSE $(DATA) \
	$(CORE_SRCS) $(PG_SRCS) $(sort $(wildcard src/core/*.h src/pg/*.hpp))
EXTRA_CLEAN += $(DIST_NAME).tar.gz

dist: $(DIST_NAME).tar.gz

$(DIST_NAME).tar.gz: $(DIST_FILES)
	tar -czf $@ --owner=0 --group=0 --numeric-owner \
		--transform 's,^,$(DIST_NAME)/,' $(DIST_FILES)

.PHONY: dist

# The pg_regress suite with the server under valgrind memcheck (about 10 minutes; `make
# install` first). scripts/test.sh runs a subset of it.
valgrind-check:
	scripts/valgrind.sh

.PHONY: valgrind-check
