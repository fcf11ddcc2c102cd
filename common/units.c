/* units.c - placeholder until the module lands (see units.h). */
#include "units.h"
