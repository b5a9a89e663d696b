#include "pg/buffer_hints.hpp"

extern "C" {
#include "storage/buf_internals.h"
}

namespace ann::pg {

namespace {

// Blocks whose buffers are remembered: 4 MB of hints covers an index of 8 GB.
constexpr BlockNumber kMaxHintedBlocks = 1u << 20;

struct BufferHints {
    RelFileNode node;
    Buffer *buffers;  // by block number; InvalidBuffer where unknown
    BlockNumber capacity;
};

BufferHints index_hints;
BufferHints table_hints;

// Makes `hints` cover `block` of `rel`, forgetting those of another relation. False when the
// block is beyond what is remembered.
bool cover(BufferHints &hints, Relation rel, BlockNumber block)
{
    if (block >= kMaxHintedBlocks)
        return false;
    const bool same_relation = hints.buffers != nullptr && RelFileNodeEquals(hints.node, rel->rd_node);
    if (same_relation && block < hints.capacity)
        return true;
    BlockNumber capacity = Max(hints.capacity, static_cast<BlockNumber>(1024));
    while (capacity <= block)
        capacity *= 2;
    Buffer *buffers = static_cast<Buffer *>(MemoryContextAlloc(TopMemoryContext, sizeof(Buffer) * capacity));
    BlockNumber kept = 0;
    if (same_relation) {
        memcpy(buffers, hints.buffers, sizeof(Buffer) * hints.capacity);
        kept = hints.capacity;
    }
    for (BlockNumber i = kept; i < capacity; i++)
        buffers[i] = InvalidBuffer;
    if (hints.buffers != nullptr)
        pfree(hints.buffers);
    hints.node = rel->rd_node;
    hints.buffers = buffers;
    hints.capacity = capacity;
    return true;
}

BufferHints &hints_for(HintedRelation kind)
{
    return kind == HintedRelation::index ? index_hints : table_hints;
}

}  // namespace

Buffer read_buffer_hinted(Relation rel, BlockNumber block, HintedRelation kind)
{
    BufferHints &hints = hints_for(kind);
    if (RelationUsesLocalBuffers(rel) || !cover(hints, rel, block))
        return ReadBuffer(rel, block);
    const Buffer recent = hints.buffers[block];
    if (recent != InvalidBuffer && ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, block, recent))
        return recent;
    const Buffer buffer = ReadBuffer(rel, block);
    hints.buffers[block] = buffer;
    return buffer;
}

}  // namespace ann::pg

namespace ann::pg {

Page prefetch_hinted_page(Relation rel, BlockNumber block, HintedRelation kind)
{
    const BufferHints &hints = hints_for(kind);
    if (hints.buffers == nullptr || block >= hints.capacity || hints.buffers[block] == InvalidBuffer ||
        !RelFileNodeEquals(hints.node, rel->rd_node))
        return nullptr;
    const Buffer buffer = hints.buffers[block];
    __builtin_prefetch(GetBufferDescriptor(buffer - 1));
    Page page = static_cast<Page>(BufferGetBlock(buffer));
    __builtin_prefetch(page);
    return page;
}

}  // namespace ann::pg
