/* storage_file.c - placeholder until the module lands (see storage.h). */
#include "storage.h"
