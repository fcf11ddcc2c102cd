/* manifest.c - placeholder until the module lands (see manifest.h). */
#include "manifest.h"
