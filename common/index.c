/* index.c - placeholder until the module lands (see index.h). */
#include "index.h"
