#include "pg/opclass_validate.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "utils/catcache.h"
#include "utils/syscache.h"
}

namespace ann::pg {

bool validate_ordering_opclass(Oid opclass_oid, const char *am_name, int16 max_support)
{
    HeapTuple class_tuple = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass_oid));
    if (!HeapTupleIsValid(class_tuple))
        elog(ERROR, "cache lookup failed for operator class %u", opclass_oid);
    auto *class_form = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(class_tuple));
    const Oid family = class_form->opcfamily;
    const char *class_name = pstrdup(NameStr(class_form->opcname));
    ReleaseSysCache(class_tuple);

    bool valid = true;
    bool has_distance = false;

    CatCList *procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(family));
    for (int i = 0; i < procs->n_members; i++) {
        auto *proc = reinterpret_cast<Form_pg_amproc>(GETSTRUCT(&procs->members[i]->tuple));
        if (proc->amprocnum == 1) {
            has_distance = true;
        } else if (proc->amprocnum < 2 || proc->amprocnum > max_support) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("%s operator family of class \"%s\" contains invalid support "
                                  "function number %d", am_name, class_name, proc->amprocnum)));
            valid = false;
        }
    }
    ReleaseCatCacheList(procs);

    CatCList *operators = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(family));
    for (int i = 0; i < operators->n_members; i++) {
        auto *op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&operators->members[i]->tuple));
        if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("%s operator family of class \"%s\" contains operator %u "
                                  "that is not an ORDER BY operator with strategy 1",
                                  am_name, class_name, op->amopopr)));
            valid = false;
        }
    }
    ReleaseCatCacheList(operators);

    if (!has_distance) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("%s operator class \"%s\" is missing support function 1", am_name,
                              class_name)));
        valid = false;
    }
    return valid;
}

}  // namespace ann::pg
