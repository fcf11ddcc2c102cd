/* resume.h - start-up of a mode aof instance (resume.c): match the
 * index with the manifest, once, continuing the newest generation only
 * with proof of continuity. Above follow.c and reconcile.c; called by
 * the thread (instance.c). */
#ifndef AOFROLL_RESUME_H
#define AOFROLL_RESUME_H

#include "context.h"

/* Match the index with the manifest, once, at start-up. */
int resume_run(struct instance *in, struct err *e);

#endif
