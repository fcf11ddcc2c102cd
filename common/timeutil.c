/* timeutil.c - placeholder until the module lands (see timeutil.h). */
#include "timeutil.h"
