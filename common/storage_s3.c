/* storage_s3.c - placeholder for the s3:// backend (see storage.h). */
#include "storage.h"

int storage_s3_open(const struct config *cfg, struct storage **out, struct err *e)
{
    (void)cfg;
    *out = NULL;
    return err_set(e, ERR_CONFIG, "the s3:// storage backend is not built yet");
}
