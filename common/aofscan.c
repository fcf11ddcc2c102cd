/* aofscan.c - placeholder until the module lands (see aofscan.h). */
#include "aofscan.h"
