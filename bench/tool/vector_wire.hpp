// The vector type's binary wire format (src/pg/vector_io.cpp: int16 dim, int16 unused = 0,
// dim x float4, all big-endian) and PostgreSQL's binary COPY framing around it.
#pragma once

#include <cstdint>
#include <string>

namespace ann_bench {

// The vector's binary representation, as a binary parameter or COPY field carries it.
std::string encode_vector(const float *values, int dim);

void append_copy_header(std::string &out);
// One COPY row of two fields: int4 id and the vector.
void append_copy_row(std::string &out, int32_t id, const float *values, int dim);
void append_copy_trailer(std::string &out);

// An int4 column's value in a binary result.
int32_t decode_int4(const char *bytes);

}  // namespace ann_bench
