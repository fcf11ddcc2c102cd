/* codec.c - placeholder until the module lands (see codec.h). */
#include "codec.h"
