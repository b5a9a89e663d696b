// The one way the adapter includes Postgres: C headers inside extern "C", after the C++
// standard headers (port.h redefines printf and friends as macros that break <cstdio>).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}
