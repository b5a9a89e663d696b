#include "vector_wire.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace ann_bench {

namespace {

void append_be16(std::string &out, uint16_t value)
{
    const uint16_t be = htons(value);
    out.append(reinterpret_cast<const char *>(&be), sizeof be);
}

void append_be32(std::string &out, uint32_t value)
{
    const uint32_t be = htonl(value);
    out.append(reinterpret_cast<const char *>(&be), sizeof be);
}

void append_vector(std::string &out, const float *values, int dim)
{
    append_be16(out, static_cast<uint16_t>(dim));
    append_be16(out, 0);
    for (int i = 0; i < dim; i++) {
        uint32_t bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        append_be32(out, bits);
    }
}

int vector_wire_size(int dim) { return 4 + 4 * dim; }

}  // namespace

std::string encode_vector(const float *values, int dim)
{
    std::string out;
    out.reserve(vector_wire_size(dim));
    append_vector(out, values, dim);
    return out;
}

void append_copy_header(std::string &out)
{
    static const char signature[] = "PGCOPY\n\377\r\n";
    out.append(signature, sizeof signature);  // 11 bytes: the signature ends in a zero byte
    append_be32(out, 0);                      // flags: no OIDs
    append_be32(out, 0);                      // header extension length
}

void append_copy_row(std::string &out, int32_t id, const float *values, int dim)
{
    append_be16(out, 2);
    append_be32(out, 4);
    append_be32(out, static_cast<uint32_t>(id));
    append_be32(out, static_cast<uint32_t>(vector_wire_size(dim)));
    append_vector(out, values, dim);
}

void append_copy_trailer(std::string &out) { append_be16(out, 0xFFFF); }

int32_t decode_int4(const char *bytes)
{
    uint32_t be;
    std::memcpy(&be, bytes, sizeof be);
    return static_cast<int32_t>(ntohl(be));
}

}  // namespace ann_bench
