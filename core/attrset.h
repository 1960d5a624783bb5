/* attrset.h - attribute sets of metric points (attrset.c): a hash that does not depend on the
 * order of the attributes, comparison with a stored set, and the sorted copy a point keeps. Not a
 * public header. */
#ifndef OTEL_ATTRSET_H
#define OTEL_ATTRSET_H

#include <mhd-otel/otel.h>

/* A hash of the set kv[0..n): the same for any order of the same
 * attributes. A NULL string value counts as "". */
uint64_t otel_attrset_hash(const otel_kv *kv, size_t n);

/* True when kv[0..n) is the set stored (a copy made by otel_attrset_copy). */
bool otel_attrset_equal(const otel_kv *stored, size_t n_stored, const otel_kv *kv, size_t n);

/* A copy of kv[0..n) sorted by key, in one block with the order the keys
 * came in (which otel_attrset_equal tries first) and the strings; the
 * caller frees it with otel_free (n 0: a valid block, no attribute).
 * Returns 0, OTEL_ERR_INVALID (a NULL key, a key twice, a string array, more
 * than max attributes) or OTEL_ERR_NOMEM; *out is then NULL. */
int otel_attrset_copy(const otel_kv *kv, size_t n, size_t max, otel_kv **out);

#endif /* OTEL_ATTRSET_H */
