/* config.c - placeholder until the module lands (see config.h). */
#include "config.h"
