/* config_path.h - which configuration file aofroll and aofroll-collector
 * read: -c FILE when given, else the file named by the environment
 * variable AOFROLL_CONFIG, else the default fixed at configure time
 * (AOFROLL_DEFAULT_CONFIG: /etc/aofroll/aofroll.yaml for the Debian
 * package, PREFIX/etc/aofroll/aofroll.yaml under another prefix). */
#ifndef AOFROLL_CONFIG_PATH_H
#define AOFROLL_CONFIG_PATH_H

#include "config.h"
#include "error.h"

/* The compiled-in default path. */
const char *config_path_default(void);
/* The path to read: given (the -c value, may be NULL), else
 * $AOFROLL_CONFIG when set and not empty, else the default. */
const char *config_path_pick(const char *given);
/* config_load() on config_path_pick(given). When a file that was not named
 * with -c cannot be read, the message says where its path came from and
 * how to name another. */
int config_path_load(const char *given, struct config *cfg, struct err *e);

#endif
