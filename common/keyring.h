/* keyring.h - the keys that seal the archive: storage.encryption.key_file.
 *
 * The key file holds one key a line, "ID BASE64-KEY": ID a key id as
 * objname.h defines it (1-32 bytes of [A-Za-z0-9_-]), the key 32 random
 * bytes in base64 (`openssl rand -base64 32`). Blank lines and lines
 * starting with '#' are ignored. The LAST key seals new objects; every key
 * listed opens the objects sealed with it, so that rotation is adding a
 * line (docs/encryption.md).
 *
 * The file must not be readable by group or others (mode 0600 or 0400),
 * as the s3 credentials file. Every error is one line
 * "FILE:LINE:COLUMN: what is wrong" (ERR_CONFIG) that never quotes a key,
 * nor a token that could be one. Key bytes live only in the keyring and
 * are wiped (OPENSSL_cleanse) when it is freed, as is every copy of the
 * file's text made while reading it. */
#ifndef AOFROLL_KEYRING_H
#define AOFROLL_KEYRING_H

#include <stddef.h>

#include "error.h"
#include "objname.h"

#define KEYRING_KEY_LEN 32

struct keyring_key {
    char id[OBJNAME_KEY_ID_MAX + 1];
    unsigned char key[KEYRING_KEY_LEN];
    int line; /* in the key file */
};

struct keyring {
    char *path;               /* the key file, for messages */
    struct keyring_key *keys; /* in the file's order; the last one seals */
    size_t n;
};

/* Read the key file at `path` (its mode checked first). */
int keyring_load(const char *path, struct keyring **out, struct err *e);
/* Parse key file text; `name` stands for the file in messages. */
int keyring_parse(const char *name, const char *text, size_t len, struct keyring **out, struct err *e);
void keyring_free(struct keyring *kr);
/* The key with this id, or NULL. */
const struct keyring_key *keyring_find(const struct keyring *kr, const char *id);
/* The key that seals new objects: the last one in the file. */
const struct keyring_key *keyring_newest(const struct keyring *kr);
/* "k2019, k2020 (seals)": the ids, for --check; appended to buf. */
void keyring_describe(const struct keyring *kr, char *buf, size_t n);

#endif
