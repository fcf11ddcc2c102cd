/* reconcile.h - objects in the storage that the index lacks
 * (reconcile.c), at start-up: verified and adopted, or removed. Called by
 * resume.c and snapshot.c; above generation.c. */
#ifndef AOFROLL_RECONCILE_H
#define AOFROLL_RECONCILE_H

#include <stdint.h>

#include "context.h"
#include "generation.h"

/* Compare the storage with the index for generation g (kind base and
 * incr): objects that the index lacks and that join the indexed chunks
 * exactly are verified and adopted; any other unreferenced object is
 * removed. `live` (may be NULL) gives the bytes to compare with. */
int reconcile_generation(struct instance *in, struct generation *g, int live, struct err *e);
/* Fail when storage holds generations newer than the index knows. */
int reconcile_newer(struct instance *in, int64_t latest, struct err *e);

#endif
