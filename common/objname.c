/* objname.c - placeholder until the module lands (see objname.h). */
#include "objname.h"
