// ann_index_check for hnsw indexes (see index_check.hpp). One pass over the pages in block
// order: each page is copied under a share lock and judged from the copy; what its tuples
// point at (link targets, overflow chains, the table's line pointers) is looked up after,
// sorted, one buffer locked at a time as scans do. Inserts, scans and VACUUM may run
// meanwhile, so it reports only states that no interleaving of them produces:
//   meta page     page id and flags, magic, format version, m, ef_construction, dimensions
//                 within the vector type's limit, the vector storage those dimensions and m
//                 call for, entry point set exactly when its level is, insert block inside
//                 the index;
//   other pages   element pages (an all-zero page is damage: inserts and VACUUM refuse it),
//                 line pointers unused or normal, tuples aligned and inside the tuple area,
//                 of a known kind;
//   elements      long enough for their level and heap TID count, level within the cap for
//                 the index's dimensions, finite vector, each level's links packed at the
//                 front of its slots, each link inside the index, off the meta page and not
//                 at an overflow tuple or vector chunk;
//   vectors       chunked ones (see hnsw_page.hpp): the element's chain of vector chunks
//                 holds exactly its dimensions' finite floats; vector chunks that no element
//                 reaches are allowed (an insert writes them before its element, and one that
//                 failed in between leaves them), as are chains that break while the element
//                 is being freed by VACUUM;
//   overflow      each chain step reaches an overflow tuple, no chain loops, and every
//                 overflow tuple belongs to exactly one chain;
//   heap TIDs     valid, inside the table, and neither at a vacant line pointer nor at a
//                 heap-only tuple (see check_heap_tids for concurrent VACUUM);
//   entry point   an element of the meta page's entry level, and set whenever a live element
//                 exists (checked under the entry-point lock, so inserts cannot move it).
// Counted but allowed ("stale links"): links to a slot VACUUM freed, which the page no
// longer has, holds unused, or has since given to an element of a lower level. VACUUM frees
// an element while an insert that chose it as a neighbour may still link to it; readers
// skip such links. Elements whose rows are all gone ("dead elements") await VACUUM.
#include "pg/hnsw.hpp"

#include <cstdlib>

#include "pg/hnsw_graph_reader.hpp"
#include "pg/index_check.hpp"
#include "pg/vector.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/tableam.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

namespace ann::pg {

namespace {

// A pointer found on an index page: a link or a heap TID, and the tuple holding it.
struct Reference {
    ItemPointerData target;
    ItemPointerData source;
    int level;  // links only: the level of the slot
};

struct ReferenceList {
    Reference *items;
    uint32 count;
    uint32 capacity;
};

void append_reference(ReferenceList *list, const ItemPointerData &target, const ItemPointerData &source, int level)
{
    if (list->count == list->capacity) {
        list->capacity = Max(list->capacity * 2, 256u);
        list->items = list->items ? static_cast<Reference *>(repalloc_huge(list->items, sizeof(Reference) * list->capacity))
                                  : static_cast<Reference *>(palloc_extended(sizeof(Reference) * list->capacity, MCXT_ALLOC_HUGE));
    }
    list->items[list->count++] = Reference{target, source, level};
}

int compare_tids(const ItemPointerData *a, const ItemPointerData *b)
{
    return ItemPointerCompare(const_cast<ItemPointer>(a), const_cast<ItemPointer>(b));
}

int compare_reference_targets(const void *a, const void *b)
{
    return compare_tids(&static_cast<const Reference *>(a)->target, &static_cast<const Reference *>(b)->target);
}

int compare_tid_values(const void *a, const void *b)
{
    return compare_tids(static_cast<const ItemPointerData *>(a), static_cast<const ItemPointerData *>(b));
}

struct TidList {
    ItemPointerData *items;
    uint32 count;
    uint32 capacity;
};

void append_tid(TidList *list, const ItemPointerData &tid)
{
    if (list->count == list->capacity) {
        list->capacity = Max(list->capacity * 2, 64u);
        list->items = list->items ? static_cast<ItemPointerData *>(repalloc_huge(list->items, sizeof(ItemPointerData) * list->capacity))
                                  : static_cast<ItemPointerData *>(palloc_extended(sizeof(ItemPointerData) * list->capacity, MCXT_ALLOC_HUGE));
    }
    list->items[list->count++] = tid;
}

// What a slot of an index page holds, as a lookup sees it.
enum class SlotContent { vacant, element, overflow, vector_chunk, malformed };

// The tuple at `offset` of an hnsw page and its length, or null when the slot is vacant or
// its line pointer does not describe an aligned tuple inside the page's tuple area.
const char *tuple_at(Page page, OffsetNumber offset, Size *length, bool *vacant)
{
    *vacant = false;
    if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)) {
        *vacant = true;
        return nullptr;
    }
    const ItemId item = PageGetItemId(page, offset);
    if (!ItemIdIsUsed(item)) {
        *vacant = true;
        return nullptr;
    }
    const PageHeader header = reinterpret_cast<PageHeader>(page);
    const Size start = ItemIdGetOffset(item);
    *length = ItemIdGetLength(item);
    if (!ItemIdIsNormal(item) || *length == 0 || start < header->pd_upper || start + *length > header->pd_special ||
        start % MAXIMUM_ALIGNOF != 0)
        return nullptr;
    return static_cast<const char *>(page) + start;
}

bool is_element_page(Page page)
{
    return !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaque)) &&
           hnsw_page_opaque(page)->page_id == kHnswPageId && hnsw_page_opaque(page)->flags == kHnswPageElements;
}

// Line pointer states of the table that no index entry may point at.
enum class HeapSlot { fine, vacant, heap_only };

class HnswChecker {
public:
    HnswChecker(Relation heap, Relation index) : heap_(heap), index_(index)
    {
        check_context_ = AllocSetContextCreate(CurrentMemoryContext, "hnsw check", ALLOCSET_DEFAULT_SIZES);
        page_context_ = AllocSetContextCreate(check_context_, "hnsw check page", ALLOCSET_DEFAULT_SIZES);
        copy_ = static_cast<Page>(MemoryContextAlloc(check_context_, BLCKSZ));
        strategy_ = GetAccessStrategy(BAS_BULKREAD);
        // Line pointers are heap's: other table access methods place rows their own way.
        heap_is_heap_ = heap->rd_tableam == GetHeapamTableAmRoutine();
    }

    void check_meta();
    void check_pages();
    void check_overflow_ownership();
    void check_entry_point();
    void report_counts(IndexCheckCounts *counts) const;
    void release();

private:
    void copy_page(BlockNumber block);
    void check_page_kind(BlockNumber block, uint16 flags);
    void check_element(BlockNumber block, OffsetNumber offset, const char *tuple, Size length);
    void check_overflow_tuple(BlockNumber block, OffsetNumber offset, const char *tuple, Size length);
    void check_vector_chunk(BlockNumber block, OffsetNumber offset, const char *tuple, Size length);
    void follow_vector_chunks(const ItemPointerData &element, const ItemPointerData &first_chunk);
    bool element_names_vector(const ItemPointerData &element, const ItemPointerData &first_chunk);
    void follow_overflow_chain(const ItemPointerData &element, ItemPointerData next);
    void check_links();
    void check_heap_tids();
    Page lock_index_page(BlockNumber block);
    void unlock_index_page() { LockBuffer(index_probe_, BUFFER_LOCK_UNLOCK); }
    SlotContent slot_content(Page page, OffsetNumber offset, int *level);
    bool index_block_exists(BlockNumber block);
    HeapSlot heap_slot(const ItemPointerData &tid);
    bool index_still_holds(const ItemPointerData &source, const ItemPointerData &heap_tid);

    Relation heap_;
    Relation index_;
    MemoryContext check_context_;
    MemoryContext page_context_;
    Page copy_;
    BufferAccessStrategy strategy_;
    bool heap_is_heap_;
    Buffer index_probe_ = InvalidBuffer;  // kept pinned between lookups on the same page
    Buffer heap_probe_ = InvalidBuffer;

    int dim_ = 0;
    HnswElementLayout layout_{0, kHnswMinM, kHnswVectorInline};
    BlockNumber index_blocks_ = 0;  // grows when a lookup meets a newer block
    BlockNumber heap_blocks_ = 0;

    ReferenceList links_{};      // of the page being checked
    ReferenceList heap_tids_{};  // of the page being checked
    TidList overflow_present_{};
    TidList overflow_reached_{};
    ItemPointerData last_live_element_{};

    int64 pages_ = 0;
    int64 elements_ = 0;
    int64 dead_elements_ = 0;
    int64 overflow_tuples_ = 0;
    int64 vector_chunks_ = 0;
    int64 links_checked_ = 0;
    int64 stale_links_ = 0;
    int64 heap_tids_checked_ = 0;
};

void HnswChecker::copy_page(BlockNumber block)
{
    Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, block, RBM_NORMAL, strategy_);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    memcpy(copy_, BufferGetPage(buffer), BLCKSZ);
    UnlockReleaseBuffer(buffer);
}

void HnswChecker::check_page_kind(BlockNumber block, uint16 flags)
{
    if (PageIsNew(copy_))
        report_index_corruption(index_, block, InvalidOffsetNumber, "The page is all zeros, never initialised.");
    if (PageGetSpecialSize(copy_) != MAXALIGN(sizeof(HnswPageOpaque)))
        report_index_corruption(index_, block, InvalidOffsetNumber, "The special space is %u bytes, not %u.",
                                static_cast<unsigned>(PageGetSpecialSize(copy_)),
                                static_cast<unsigned>(MAXALIGN(sizeof(HnswPageOpaque))));
    const HnswPageOpaque *opaque = hnsw_page_opaque(copy_);
    if (opaque->page_id != kHnswPageId)
        report_index_corruption(index_, block, InvalidOffsetNumber, "The page id is 0x%04X, not hnsw's 0x%04X.",
                                opaque->page_id, kHnswPageId);
    if (opaque->flags != flags)
        report_index_corruption(index_, block, InvalidOffsetNumber, "The page flags are 0x%04X, not the %s page's 0x%04X.",
                                opaque->flags, flags == kHnswPageMeta ? "meta" : "element", flags);
}

void HnswChecker::check_meta()
{
    if (RelationGetNumberOfBlocks(index_) == 0)
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber, "The index has no meta page.");
    copy_page(kHnswMetaBlock);
    // Counted after the copy: the insert block the copy names already exists then.
    index_blocks_ = RelationGetNumberOfBlocks(index_);
    check_page_kind(kHnswMetaBlock, kHnswPageMeta);
    const HnswMetaData *meta = hnsw_meta_data(copy_);
    auto report = [this](const char *what, int64 value) {
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber, "The meta page's %s is %lld.", what,
                                static_cast<long long>(value));
    };
    if (meta->magic != kHnswMagic)
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber, "The magic number is 0x%08X, not 0x%08X.",
                                meta->magic, kHnswMagic);
    if (meta->version != kHnswFormatVersion)
        report("format version", meta->version);
    if (meta->m < kHnswMinM || meta->m > kHnswMaxM)
        report("m", meta->m);
    if (meta->ef_construction < kHnswMinEfConstruction || meta->ef_construction > kHnswMaxEfConstruction)
        report("ef_construction", meta->ef_construction);
    if (meta->dimensions > static_cast<uint32>(kVectorMaxDim))
        report("dimension count, above the vector type's limit,", meta->dimensions);
    if (meta->vector_storage != hnsw_vector_storage(meta->dimensions, meta->m))
        report("vector storage, not the one its dimensions and m call for,", meta->vector_storage);
    if (meta->entry_level < -1 || meta->entry_level > kHnswMaxLevel)
        report("entry level", meta->entry_level);
    if (ItemPointerIsValid(&meta->entry_point) != (meta->entry_level >= 0))
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber,
                                "The entry point (%u,%u) does not agree with the entry level %d.",
                                ItemPointerGetBlockNumberNoCheck(&meta->entry_point),
                                ItemPointerGetOffsetNumberNoCheck(&meta->entry_point), meta->entry_level);
    if (meta->insert_block != InvalidBlockNumber && (meta->insert_block == kHnswMetaBlock || meta->insert_block >= index_blocks_))
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber,
                                "The insert block %u is not an element page of the index's %u blocks.",
                                meta->insert_block, index_blocks_);
    dim_ = static_cast<int>(meta->dimensions);
    layout_ = HnswElementLayout(dim_, meta->m, static_cast<HnswVectorStorage>(meta->vector_storage));
    pages_++;
}

void HnswChecker::check_pages()
{
    // Pages added while the walk runs are left out; links into them are still followed.
    const BlockNumber blocks = index_blocks_;
    for (BlockNumber block = kHnswMetaBlock + 1; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        copy_page(block);
        if (PageIsNew(copy_))
            continue;  // never set up (see hnsw_check_page); nothing points into it
        check_page_kind(block, kHnswPageElements);
        MemoryContext old = MemoryContextSwitchTo(page_context_);
        links_ = ReferenceList{};
        heap_tids_ = ReferenceList{};
        const OffsetNumber max_offset = PageGetMaxOffsetNumber(copy_);
        for (OffsetNumber offset = FirstOffsetNumber; offset <= max_offset; offset++) {
            Size length = 0;
            bool vacant;
            const char *tuple = tuple_at(copy_, offset, &length, &vacant);
            if (vacant)
                continue;
            if (tuple == nullptr)
                report_index_corruption(index_, block, offset,
                                        "The line pointer (flags %u, %zu bytes at %u) is not an aligned tuple "
                                        "inside the page's tuple area.",
                                        ItemIdGetFlags(PageGetItemId(copy_, offset)), length,
                                        ItemIdGetOffset(PageGetItemId(copy_, offset)));
            if (static_cast<uint8>(tuple[0]) == kHnswElementTuple)
                check_element(block, offset, tuple, length);
            else if (static_cast<uint8>(tuple[0]) == kHnswHeapTidsTuple)
                check_overflow_tuple(block, offset, tuple, length);
            else if (static_cast<uint8>(tuple[0]) == kHnswVectorChunkTuple)
                check_vector_chunk(block, offset, tuple, length);
            else
                report_index_corruption(index_, block, offset, "The tuple is of unknown kind %u.",
                                        static_cast<uint8>(tuple[0]));
        }
        check_links();
        check_heap_tids();
        MemoryContextSwitchTo(old);
        MemoryContextReset(page_context_);
        pages_++;
    }
}

void HnswChecker::check_element(BlockNumber block, OffsetNumber offset, const char *tuple, Size length)
{
    if (length < kHnswElementHeaderSize)
        report_index_corruption(index_, block, offset, "The element is %zu bytes, shorter than its header.", length);
    auto *element = reinterpret_cast<HnswElementTuple *>(const_cast<char *>(tuple));
    if (dim_ == 0)
        report_index_corruption(index_, block, offset, "The index holds an element but its meta page has no dimensions.");
    if (element->level > layout_.max_level())
        report_index_corruption(index_, block, offset, "The element's level %d is above the cap %d for %d dimensions.",
                                element->level, layout_.max_level(), dim_);
    if (element->heap_tid_count > kHnswMaxInlineHeapTids)
        report_index_corruption(index_, block, offset, "The element holds %d heap TIDs inline, more than %d.",
                                element->heap_tid_count, kHnswMaxInlineHeapTids);
    const Size needed = layout_.element_size(element->level, element->heap_tid_count);
    if (length < needed)
        report_index_corruption(index_, block, offset,
                                "The element of level %d with %d heap TIDs needs %zu bytes; its line pointer has %zu.",
                                element->level, element->heap_tid_count, needed, length);
    if (element->unused != 0)
        report_index_corruption(index_, block, offset, "The element's unused field is %u, not 0.", element->unused);
    ItemPointerData self;
    ItemPointerSet(&self, block, offset);
    if (layout_.vector_inline()) {
        for (int i = 0; i < dim_; i++) {
            if (!std::isfinite(layout_.vector(element)[i]))
                report_index_corruption(index_, block, offset, "Element %d of the vector is not finite.", i + 1);
        }
    } else {
        follow_vector_chunks(self, *layout_.vector_chunk(element));
    }

    const ItemPointerData *links = layout_.links(element);
    for (int level = 0; level <= element->level; level++) {
        const ItemPointerData *slots = links + hnsw_level_link_offset(layout_.m(), level);
        bool past_end = false;
        for (int i = 0; i < hnsw_level_capacity(layout_.m(), level); i++) {
            if (!ItemPointerIsValid(&slots[i])) {
                past_end = true;
                continue;
            }
            if (past_end)
                report_index_corruption(index_, block, offset,
                                        "Link slot %d of level %d follows an empty slot, where readers stop.", i + 1, level);
            if (ItemPointerGetBlockNumberNoCheck(&slots[i]) == kHnswMetaBlock)
                report_index_corruption(index_, block, offset, "Link slot %d of level %d points to the meta page.", i + 1,
                                        level);
            append_reference(&links_, slots[i], self, level);
        }
    }

    const ItemPointerData *heap_tids = layout_.heap_tids(element);
    for (int i = 0; i < element->heap_tid_count; i++)
        append_reference(&heap_tids_, heap_tids[i], self, 0);
    if (ItemPointerIsValid(&element->more_heap_tids))
        follow_overflow_chain(self, element->more_heap_tids);

    elements_++;
    if (HnswGraphReader::element_is_dead(element))
        dead_elements_++;
    else
        last_live_element_ = self;
}

void HnswChecker::check_overflow_tuple(BlockNumber block, OffsetNumber offset, const char *tuple, Size length)
{
    const auto *overflow = reinterpret_cast<const HnswHeapTidsTuple *>(tuple);
    if (length < offsetof(HnswHeapTidsTuple, heap_tids) || length < hnsw_heap_tids_size(overflow->count))
        report_index_corruption(index_, block, offset, "The overflow tuple is %zu bytes, too short for its %u heap TIDs.",
                                length, length < offsetof(HnswHeapTidsTuple, heap_tids) ? 0u : overflow->count);
    if (overflow->unused != 0)
        report_index_corruption(index_, block, offset, "The overflow tuple's unused field is %u, not 0.", overflow->unused);
    ItemPointerData self;
    ItemPointerSet(&self, block, offset);
    MemoryContext old = MemoryContextSwitchTo(check_context_);
    append_tid(&overflow_present_, self);
    MemoryContextSwitchTo(old);
    overflow_tuples_++;
}

void HnswChecker::check_vector_chunk(BlockNumber block, OffsetNumber offset, const char *tuple, Size length)
{
    const auto *chunk = reinterpret_cast<const HnswVectorChunkTuple *>(tuple);
    if (layout_.vector_inline())
        report_index_corruption(index_, block, offset, "The index keeps its vectors inline, yet holds a vector chunk.");
    if (length < offsetof(HnswVectorChunkTuple, values) || length < hnsw_vector_chunk_size(chunk->count))
        report_index_corruption(index_, block, offset, "The vector chunk is %zu bytes, too short for its %u floats.",
                                length, length < offsetof(HnswVectorChunkTuple, values) ? 0u : chunk->count);
    if (chunk->count == 0 || chunk->count > kHnswVectorChunkFloats)
        report_index_corruption(index_, block, offset, "The vector chunk holds %u floats, not 1 to %d.", chunk->count,
                                kHnswVectorChunkFloats);
    if (chunk->unused != 0 || chunk->padding != 0)
        report_index_corruption(index_, block, offset, "The vector chunk's unused fields are %u and %u, not 0.",
                                chunk->unused, chunk->padding);
    vector_chunks_++;
}

// Walks the chunks of a chunked vector: each step must reach a vector chunk of finite floats,
// and the chunks must hold the index's dimensions exactly (so the walk ends: every step adds
// at least one float). VACUUM frees a dead element before its chunks, so a broken chain is
// damage only while the element still names it.
void HnswChecker::follow_vector_chunks(const ItemPointerData &element, const ItemPointerData &first_chunk)
{
    char problem[256];
    problem[0] = '\0';
    ItemPointerData next = first_chunk;
    int done = 0;
    while (problem[0] == '\0' && (done < dim_ || ItemPointerIsValid(&next))) {
        const ItemPointerData at = next;
        const BlockNumber block = ItemPointerGetBlockNumberNoCheck(&at);
        const OffsetNumber offset = ItemPointerGetOffsetNumberNoCheck(&at);
        if (!ItemPointerIsValid(&at)) {
            snprintf(problem, sizeof(problem), "The vector's chunks end after %d of its %d floats.", done, dim_);
            break;
        }
        if (block == kHnswMetaBlock || !index_block_exists(block)) {
            snprintf(problem, sizeof(problem), "The vector's chunks reach (%u,%u), outside the index's element pages.",
                     block, offset);
            break;
        }
        Page page = lock_index_page(block);
        int level;
        if (!is_element_page(page) || slot_content(page, offset, &level) != SlotContent::vector_chunk) {
            snprintf(problem, sizeof(problem), "The vector's chunks reach (%u,%u), which is not a vector chunk.", block,
                     offset);
        } else {
            Size length;
            bool vacant;
            const auto *chunk = reinterpret_cast<const HnswVectorChunkTuple *>(tuple_at(page, offset, &length, &vacant));
            if (chunk->count > dim_ - done)
                snprintf(problem, sizeof(problem), "The vector's chunks hold more than its %d floats by (%u,%u).", dim_,
                         block, offset);
            for (int i = 0; i < chunk->count && problem[0] == '\0'; i++) {
                if (!std::isfinite(chunk->values[i]))
                    snprintf(problem, sizeof(problem), "Element %d of the vector is not finite.", done + i + 1);
            }
            done += chunk->count;
            next = chunk->next;
        }
        unlock_index_page();
    }
    if (problem[0] != '\0' && element_names_vector(element, first_chunk))
        report_index_corruption(index_, ItemPointerGetBlockNumber(&element), ItemPointerGetOffsetNumber(&element), "%s",
                                problem);
}

bool HnswChecker::element_names_vector(const ItemPointerData &element, const ItemPointerData &first_chunk)
{
    Page page = lock_index_page(ItemPointerGetBlockNumber(&element));
    const HnswElementTuple *current = HnswGraphReader::element_at(page, ItemPointerGetOffsetNumber(&element));
    const bool names = current != nullptr &&
                       ItemPointerEquals(const_cast<ItemPointer>(layout_.vector_chunk(current)), const_cast<ItemPointer>(&first_chunk));
    unlock_index_page();
    return names;
}

// Walks the overflow chain of `element`, whose heap TIDs join the page's list. Brent's cycle
// detection: a loop returns to the remembered step, re-remembered at powers of two.
void HnswChecker::follow_overflow_chain(const ItemPointerData &element, ItemPointerData next)
{
    ItemPointerData remembered = element;
    uint64 steps = 0;
    uint64 power = 1;
    while (ItemPointerIsValid(&next)) {
        const ItemPointerData at = next;
        const BlockNumber block = ItemPointerGetBlockNumber(&at);
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&at);
        if (ItemPointerEquals(const_cast<ItemPointer>(&at), &remembered))
            report_index_corruption(index_, ItemPointerGetBlockNumber(&element), ItemPointerGetOffsetNumber(&element),
                                    "The overflow chain of the element's heap TIDs loops at (%u,%u).", block, offset);
        if (block == kHnswMetaBlock || !index_block_exists(block))
            report_index_corruption(index_, ItemPointerGetBlockNumber(&element), ItemPointerGetOffsetNumber(&element),
                                    "The overflow chain reaches (%u,%u), outside the index's element pages.", block, offset);
        Page page = lock_index_page(block);
        int level;
        const SlotContent content = slot_content(page, offset, &level);
        if (content == SlotContent::overflow) {
            Size length;
            bool vacant;
            const auto *overflow = reinterpret_cast<const HnswHeapTidsTuple *>(tuple_at(page, offset, &length, &vacant));
            for (int i = 0; i < overflow->count; i++)
                append_reference(&heap_tids_, overflow->heap_tids[i], at, 0);
            next = overflow->next;
        }
        unlock_index_page();
        if (content != SlotContent::overflow)
            report_index_corruption(index_, ItemPointerGetBlockNumber(&element), ItemPointerGetOffsetNumber(&element),
                                    "The overflow chain reaches (%u,%u), which is not an overflow tuple.", block, offset);
        MemoryContext old = MemoryContextSwitchTo(check_context_);
        append_tid(&overflow_reached_, at);
        MemoryContextSwitchTo(old);
        if (++steps == power) {
            remembered = at;
            power *= 2;
            steps = 0;
        }
    }
}

void HnswChecker::check_links()
{
    qsort(links_.items, links_.count, sizeof(Reference), compare_reference_targets);
    for (uint32 i = 0; i < links_.count; i++) {
        const Reference &link = links_.items[i];
        const BlockNumber block = ItemPointerGetBlockNumber(&link.target);
        const OffsetNumber offset = ItemPointerGetOffsetNumber(&link.target);
        if (!index_block_exists(block))
            report_index_corruption(index_, ItemPointerGetBlockNumber(&link.source), ItemPointerGetOffsetNumber(&link.source),
                                    "A link of level %d points to block %u, beyond the index's %u blocks.", link.level,
                                    block, index_blocks_);
        Page page = lock_index_page(block);
        const bool element_page = is_element_page(page);
        int level = -1;
        const SlotContent content = element_page ? slot_content(page, offset, &level) : SlotContent::malformed;
        unlock_index_page();
        if (!element_page)
            report_index_corruption(index_, ItemPointerGetBlockNumber(&link.source), ItemPointerGetOffsetNumber(&link.source),
                                    "A link of level %d points to block %u, which is not an element page.", link.level,
                                    block);
        if (content == SlotContent::overflow || content == SlotContent::vector_chunk || content == SlotContent::malformed)
            report_index_corruption(index_, ItemPointerGetBlockNumber(&link.source), ItemPointerGetOffsetNumber(&link.source),
                                    "A link of level %d points to (%u,%u), which holds %s.", link.level, block, offset,
                                    content == SlotContent::overflow       ? "an overflow tuple"
                                    : content == SlotContent::vector_chunk ? "a vector chunk"
                                                                           : "no valid tuple");
        if (content == SlotContent::vacant || level < link.level)
            stale_links_++;
        links_checked_++;
    }
}

// VACUUM removes a row's TID from the index before the table's line pointer is freed (the
// table's second pass), and only pruning's HOT members, which no index entry names, are
// freed otherwise. Holding AccessShareLock does not stop VACUUM, so a TID seen at a vacant
// line pointer may just have been removed from the index: it is damage only if the index
// tuple still holds it afterwards and the line pointer is still vacant after that.
void HnswChecker::check_heap_tids()
{
    qsort(heap_tids_.items, heap_tids_.count, sizeof(Reference), compare_reference_targets);
    for (uint32 i = 0; i < heap_tids_.count; i++) {
        const Reference &reference = heap_tids_.items[i];
        const ItemPointerData &tid = reference.target;
        const BlockNumber source_block = ItemPointerGetBlockNumber(&reference.source);
        const OffsetNumber source_offset = ItemPointerGetOffsetNumber(&reference.source);
        const BlockNumber block = ItemPointerGetBlockNumberNoCheck(&tid);
        const OffsetNumber offset = ItemPointerGetOffsetNumberNoCheck(&tid);
        heap_tids_checked_++;
        if (!heap_is_heap_)
            continue;
        if (block == InvalidBlockNumber || offset < FirstOffsetNumber || offset > MaxHeapTuplesPerPage)
            report_index_corruption(index_, source_block, source_offset, "Heap TID (%u,%u) is not a row position.", block,
                                    offset);
        // The table only grows under our lock (truncation needs an exclusive one).
        if (block >= heap_blocks_)
            heap_blocks_ = RelationGetNumberOfBlocks(heap_);
        if (block >= heap_blocks_)
            report_index_corruption(index_, source_block, source_offset,
                                    "Heap TID (%u,%u) lies beyond the table's %u blocks.", block, offset, heap_blocks_);
        const HeapSlot slot = heap_slot(tid);
        if (slot != HeapSlot::fine && index_still_holds(reference.source, tid) && heap_slot(tid) == slot)
            report_index_corruption(index_, source_block, source_offset, "Heap TID (%u,%u) points to %s of the table.",
                                    block, offset, slot == HeapSlot::vacant ? "an unused line pointer" : "a heap-only tuple");
    }
}

Page HnswChecker::lock_index_page(BlockNumber block)
{
    if (index_probe_ == InvalidBuffer || BufferGetBlockNumber(index_probe_) != block) {
        if (index_probe_ != InvalidBuffer)
            ReleaseBuffer(index_probe_);
        index_probe_ = InvalidBuffer;
        index_probe_ = ReadBuffer(index_, block);
    }
    LockBuffer(index_probe_, BUFFER_LOCK_SHARE);
    return BufferGetPage(index_probe_);
}

SlotContent HnswChecker::slot_content(Page page, OffsetNumber offset, int *level)
{
    Size length = 0;
    bool vacant;
    const char *tuple = tuple_at(page, offset, &length, &vacant);
    if (vacant)
        return SlotContent::vacant;
    if (tuple == nullptr)
        return SlotContent::malformed;
    if (static_cast<uint8>(tuple[0]) == kHnswElementTuple && length >= kHnswElementHeaderSize) {
        *level = reinterpret_cast<const HnswElementTuple *>(tuple)->level;
        return SlotContent::element;
    }
    if (static_cast<uint8>(tuple[0]) == kHnswVectorChunkTuple && length >= offsetof(HnswVectorChunkTuple, values) &&
        length >= hnsw_vector_chunk_size(reinterpret_cast<const HnswVectorChunkTuple *>(tuple)->count))
        return SlotContent::vector_chunk;
    if (static_cast<uint8>(tuple[0]) == kHnswHeapTidsTuple && length >= offsetof(HnswHeapTidsTuple, heap_tids) &&
        length >= hnsw_heap_tids_size(reinterpret_cast<const HnswHeapTidsTuple *>(tuple)->count))
        return SlotContent::overflow;
    return SlotContent::malformed;
}

// The index never shrinks, so a block past the count taken earlier may be one added since.
bool HnswChecker::index_block_exists(BlockNumber block)
{
    if (block >= index_blocks_)
        index_blocks_ = RelationGetNumberOfBlocks(index_);
    return block < index_blocks_;
}

HeapSlot HnswChecker::heap_slot(const ItemPointerData &tid)
{
    const BlockNumber block = ItemPointerGetBlockNumber(&tid);
    const OffsetNumber offset = ItemPointerGetOffsetNumber(&tid);
    if (heap_probe_ == InvalidBuffer || BufferGetBlockNumber(heap_probe_) != block) {
        if (heap_probe_ != InvalidBuffer)
            ReleaseBuffer(heap_probe_);
        heap_probe_ = InvalidBuffer;
        heap_probe_ = ReadBuffer(heap_, block);
    }
    LockBuffer(heap_probe_, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(heap_probe_);
    HeapSlot slot = HeapSlot::fine;
    if (offset > PageGetMaxOffsetNumber(page) || !ItemIdIsUsed(PageGetItemId(page, offset))) {
        slot = HeapSlot::vacant;
    } else if (ItemIdIsNormal(PageGetItemId(page, offset))) {
        const ItemId item = PageGetItemId(page, offset);
        // A damaged table page is not ours to judge; only a readable tuple header counts.
        if (ItemIdGetLength(item) >= SizeofHeapTupleHeader && ItemIdGetOffset(item) + ItemIdGetLength(item) <= BLCKSZ &&
            HeapTupleHeaderIsHeapOnly(reinterpret_cast<HeapTupleHeader>(PageGetItem(page, item))))
            slot = HeapSlot::heap_only;
    }
    LockBuffer(heap_probe_, BUFFER_LOCK_UNLOCK);
    return slot;
}

bool HnswChecker::index_still_holds(const ItemPointerData &source, const ItemPointerData &heap_tid)
{
    Page page = lock_index_page(ItemPointerGetBlockNumber(&source));
    Size length = 0;
    bool vacant;
    const char *tuple = tuple_at(page, ItemPointerGetOffsetNumber(&source), &length, &vacant);
    const ItemPointerData *tids = nullptr;
    int count = 0;
    if (tuple != nullptr && static_cast<uint8>(tuple[0]) == kHnswElementTuple &&
        length >= kHnswElementHeaderSize) {
        auto *element = reinterpret_cast<HnswElementTuple *>(const_cast<char *>(tuple));
        if (element->heap_tid_count <= kHnswMaxInlineHeapTids &&
            length >= layout_.element_size(element->level, element->heap_tid_count)) {
            tids = layout_.heap_tids(element);
            count = element->heap_tid_count;
        }
    } else if (tuple != nullptr && static_cast<uint8>(tuple[0]) == kHnswHeapTidsTuple &&
               length >= offsetof(HnswHeapTidsTuple, heap_tids)) {
        const auto *overflow = reinterpret_cast<const HnswHeapTidsTuple *>(tuple);
        if (length >= hnsw_heap_tids_size(overflow->count)) {
            tids = overflow->heap_tids;
            count = overflow->count;
        }
    }
    bool holds = false;
    for (int i = 0; i < count && !holds; i++)
        holds = ItemPointerEquals(const_cast<ItemPointer>(&tids[i]), const_cast<ItemPointer>(&heap_tid));
    unlock_index_page();
    return holds;
}

// Overflow tuples are written by builds only and never move or go away, so every one must be
// reached by exactly one element's chain.
void HnswChecker::check_overflow_ownership()
{
    qsort(overflow_reached_.items, overflow_reached_.count, sizeof(ItemPointerData), compare_tid_values);
    for (uint32 i = 1; i < overflow_reached_.count; i++) {
        const ItemPointerData &tid = overflow_reached_.items[i];
        if (ItemPointerEquals(&overflow_reached_.items[i - 1], const_cast<ItemPointer>(&tid)))
            report_index_corruption(index_, ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid),
                                    "The overflow tuple is in the chains of two elements.");
    }
    qsort(overflow_present_.items, overflow_present_.count, sizeof(ItemPointerData), compare_tid_values);
    uint32 reached = 0;
    for (uint32 i = 0; i < overflow_present_.count; i++) {
        const ItemPointerData &tid = overflow_present_.items[i];
        while (reached < overflow_reached_.count && compare_tids(&overflow_reached_.items[reached], &tid) < 0)
            reached++;
        if (reached == overflow_reached_.count || compare_tids(&overflow_reached_.items[reached], &tid) != 0)
            report_index_corruption(index_, ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid),
                                    "The overflow tuple is in no element's chain.");
    }
}

// Under the entry-point lock in share mode, which every insert that moves the entry point
// and VACUUM's move off a dead element take exclusively.
void HnswChecker::check_entry_point()
{
    LockPage(index_, kHnswMetaBlock, ShareLock);
    const HnswMeta meta = hnsw_read_meta(index_);
    SlotContent content = SlotContent::vacant;
    int level = -1;
    if (ItemPointerIsValid(&meta.entry_point) && ItemPointerGetBlockNumber(&meta.entry_point) != kHnswMetaBlock &&
        index_block_exists(ItemPointerGetBlockNumber(&meta.entry_point))) {
        Page page = lock_index_page(ItemPointerGetBlockNumber(&meta.entry_point));
        content = is_element_page(page) ? slot_content(page, ItemPointerGetOffsetNumber(&meta.entry_point), &level)
                                        : SlotContent::malformed;
        unlock_index_page();
    }
    // A live element seen by the walk that is still live now has no way in.
    bool unreachable_live = false;
    if (!ItemPointerIsValid(&meta.entry_point) && ItemPointerIsValid(&last_live_element_)) {
        Page page = lock_index_page(ItemPointerGetBlockNumber(&last_live_element_));
        Size length;
        bool vacant;
        const char *tuple = tuple_at(page, ItemPointerGetOffsetNumber(&last_live_element_), &length, &vacant);
        unreachable_live = slot_content(page, ItemPointerGetOffsetNumber(&last_live_element_), &level) == SlotContent::element &&
                           !HnswGraphReader::element_is_dead(reinterpret_cast<const HnswElementTuple *>(tuple));
        unlock_index_page();
    }
    UnlockPage(index_, kHnswMetaBlock, ShareLock);

    if (unreachable_live)
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber,
                                "The entry point is empty while live element (%u,%u) exists.",
                                ItemPointerGetBlockNumber(&last_live_element_),
                                ItemPointerGetOffsetNumber(&last_live_element_));
    if (ItemPointerIsValid(&meta.entry_point) && (content != SlotContent::element || level != meta.entry_level))
        report_index_corruption(index_, kHnswMetaBlock, InvalidOffsetNumber,
                                "The entry point (%u,%u) is not an element of the entry level %d.",
                                ItemPointerGetBlockNumberNoCheck(&meta.entry_point),
                                ItemPointerGetOffsetNumberNoCheck(&meta.entry_point), meta.entry_level);
}

void HnswChecker::report_counts(IndexCheckCounts *counts) const
{
    add_check_count(counts, "pages", pages_);
    add_check_count(counts, "elements", elements_);
    add_check_count(counts, "dead elements", dead_elements_);
    add_check_count(counts, "overflow tuples", overflow_tuples_);
    add_check_count(counts, "vector chunks", vector_chunks_);
    add_check_count(counts, "links", links_checked_);
    add_check_count(counts, "stale links", stale_links_);
    add_check_count(counts, "heap TIDs", heap_tids_checked_);
}

void HnswChecker::release()
{
    if (index_probe_ != InvalidBuffer)
        ReleaseBuffer(index_probe_);
    if (heap_probe_ != InvalidBuffer)
        ReleaseBuffer(heap_probe_);
    index_probe_ = heap_probe_ = InvalidBuffer;
    FreeAccessStrategy(strategy_);
    MemoryContextDelete(check_context_);
}

}  // namespace

void hnsw_check_index(Relation heap, Relation index, IndexCheckCounts *counts)
{
    HnswChecker checker(heap, index);
    checker.check_meta();
    checker.check_pages();
    checker.check_overflow_ownership();
    checker.check_entry_point();
    checker.report_counts(counts);
    checker.release();
}

}  // namespace ann::pg
