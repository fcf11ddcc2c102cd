/* seal.h - an object sealed with AES-256-GCM: the format and its two
 * operations, sealing and opening (docs/encryption.md).
 *
 * A sealed object, byte by byte (L = length of the key id):
 *
 *   offset     size  field
 *   0          8     magic "AOFRSEAL"
 *   8          1     format version, 1
 *   9          1     L, 1-32
 *   10         L     the key id (ASCII, [A-Za-z0-9_-]), as in the key file
 *   10+L       12    the nonce: 96 random bits (RAND_bytes), new for every object
 *   22+L       n     the ciphertext: AES-256-GCM of the n plaintext bytes
 *   22+L+n     16    the GCM tag
 *
 * The additional authenticated data is the header (bytes 0 to 22+L) followed
 * by the object's name (its storage key, e.g.
 * "sessions/gen-000001/incr/...aof.gz.k1.enc"), so that neither the header
 * nor the name can change, and no sealed object can stand in for another,
 * without the tag failing. The plaintext is what the object would hold
 * unsealed: a chunk's gzip member, the index copy's SQLite file.
 *
 * All cryptography is OpenSSL's libcrypto (EVP); nothing here is a cipher. */
#ifndef AOFROLL_SEAL_H
#define AOFROLL_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "keyring.h"

#define SEAL_MAGIC "AOFRSEAL"
#define SEAL_MAGIC_LEN 8
#define SEAL_VERSION 1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
/* GCM's limit on one message: 2^39 - 256 bits */
#define SEAL_PLAIN_MAX ((((uint64_t)1) << 36) - 32)

/* Bytes of the header for a key id of id_len bytes. */
size_t seal_header_len(size_t id_len);
/* Bytes a sealed object holds beyond its plaintext (header and tag). */
size_t seal_overhead(size_t id_len);

/* Append to `out` the `len` bytes at `plain` sealed with key `k` as the
 * object `name`. */
int seal_object(const struct keyring_key *k, const char *name, const void *plain, size_t len, struct buf *out,
                struct err *e);

/* The key id in a sealed object's header (id holds OBJNAME_KEY_ID_MAX + 1).
 * ERR_CORRUPT naming `name` when the bytes are no sealed object. */
int seal_key_id(const void *obj, size_t len, const char *name, char *id, struct err *e);

/* ERR_CONFIG: "object X is sealed with key \"ID\", which key file F does
 * not hold", with a HINT. Returns -1. */
int seal_missing_key(const struct keyring *kr, const char *name, const char *id, struct err *e);

/* Open the sealed object `name` held in b->data[from .. b->len), in place:
 * on success b->data[from ..] holds the plaintext and b->len ends it. The
 * header's key id must be `expect_id` (the one its name carries) when that
 * is not NULL. Fails with ERR_CONFIG when `kr` lacks the key ("object X is
 * sealed with key \"ID\", which key file F does not hold"), ERR_CORRUPT when
 * the object is not a sealed object or its tag does not verify (a wrong
 * key, or altered bytes); then b->len is `from` again. */
int seal_open(const struct keyring *kr, const char *name, const char *expect_id, struct buf *b, size_t from,
              struct err *e);

#endif
