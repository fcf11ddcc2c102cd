/* check_seal.h - --check of encryption (check_seal.c), reported through
 * check_report.h. Called by check.c. */
#ifndef AOFROLL_CHECK_SEAL_H
#define AOFROLL_CHECK_SEAL_H

#include "config.h"
#include "storage.h"

#include "check_report.h"

/* --check of encryption (check_seal.c), once the storage answered: the
 * key ids and which one seals, that the probe `probe_key` went through
 * sealed, and that each instance's newest object opens. */
void check_seal(const struct config *cfg, struct storage *st, const char *probe_key, struct check_report *r);

#endif
