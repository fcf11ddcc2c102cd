/* storage_sftp.c - placeholder for the sftp:// backend (see storage.h). */
#include "storage.h"

int storage_sftp_open(const struct config *cfg, struct storage **out, struct err *e)
{
    (void)cfg;
    *out = NULL;
    return err_set(e, ERR_CONFIG, "the sftp:// storage backend is not built yet");
}
