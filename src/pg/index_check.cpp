// The SQL entry point of ann_index_check: opens the index and its table, picks the checker
// of the index's access method, and returns the checker's counts as rows.
#include "pg/index_check.hpp"

#include <cstdarg>

#include "pg/guard.hpp"
#include "pg/hnsw.hpp"
#include "pg/ivfflat.hpp"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
}

namespace ann::pg {

namespace {

// An index belongs to one of our access methods when its build callback is ours.
struct IndexChecker {
    ambuild_function build;
    void (*check)(Relation heap, Relation index, IndexCheckCounts *counts);
};

const IndexChecker kIndexCheckers[] = {
    {hnsw_build, hnsw_check_index},
    {ivfflat_build, ivfflat_check_index},
};

void check_checkable(Relation index)
{
    const char *name = RelationGetRelationName(index);
    if (index->rd_rel->relkind == RELKIND_PARTITIONED_INDEX)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("cannot check partitioned index \"%s\"", name),
                        errhint("Check the indexes of its partitions.")));
    if (index->rd_rel->relkind != RELKIND_INDEX)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an index", name)));
    if (RELATION_IS_OTHER_TEMP(index))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot check temporary indexes of other sessions")));
    if (RecoveryInProgress() && index->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot access temporary or unlogged relations during recovery")));
    // An invalid index may be one CREATE INDEX CONCURRENTLY is still writing.
    if (!index->rd_index->indisvalid)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot check index \"%s\"", name),
                        errdetail("The index is not valid.")));
}

}  // namespace

void report_index_corruption(Relation index, BlockNumber block, OffsetNumber offset, const char *format, ...)
{
    char problem[512];
    va_list args;
    va_start(args, format);
    vsnprintf(problem, sizeof(problem), format, args);
    va_end(args);
    if (offset == InvalidOffsetNumber)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is corrupted at block %u", RelationGetRelationName(index), block),
                        errdetail_internal("%s", problem), errhint("REINDEX rebuilds it.")));
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" is corrupted at block %u, offset %u", RelationGetRelationName(index),
                           block, offset),
                    errdetail_internal("%s", problem), errhint("REINDEX rebuilds it.")));
    pg_unreachable();
}

}  // namespace ann::pg

ANN_FUNCTION(ann_index_check)
{
    const Oid index_oid = PG_GETARG_OID(0);

    // The table is locked before its index, the order every other user of both takes, so
    // the check cannot deadlock with DDL. The index's table is looked up again once both
    // are locked: in between, the index may have been dropped and its OID reused.
    const Oid heap_oid = IndexGetRelation(index_oid, true);
    Relation heap = OidIsValid(heap_oid) ? table_open(heap_oid, AccessShareLock) : nullptr;
    Relation index = relation_open(index_oid, AccessShareLock);
    ann::pg::check_checkable(index);
    if (heap == nullptr || IndexGetRelation(index_oid, false) != heap_oid)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("could not open the table of index \"%s\"", RelationGetRelationName(index))));

    const ann::pg::IndexChecker *checker = nullptr;
    for (const ann::pg::IndexChecker &candidate : ann::pg::kIndexCheckers) {
        if (index->rd_indam->ambuild == candidate.build)
            checker = &candidate;
    }
    if (checker == nullptr)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not an ann index", RelationGetRelationName(index)),
                        errdetail("Its access method is \"%s\".", get_am_name(index->rd_rel->relam))));

    ann::pg::IndexCheckCounts counts;
    counts.used = 0;
    checker->check(heap, index, &counts);

    relation_close(index, AccessShareLock);
    table_close(heap, AccessShareLock);

    InitMaterializedSRF(fcinfo, 0);
    auto *result = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    for (int i = 0; i < counts.used; i++) {
        Datum values[2] = {CStringGetTextDatum(counts.items[i]), Int64GetDatum(counts.counts[i])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}
