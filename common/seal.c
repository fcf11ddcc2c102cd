/* seal.c - sealing and opening objects with AES-256-GCM (see seal.h).
 *
 * Where it sits: sealing is a filter on the way into and out of storage,
 * not a step of each caller nor a feature of each backend. storage_put()
 * and storage_get() (storage.c) apply it to every object whose name ends
 * in ".<key id>.enc" and to no other, so that chunks, snapshot bases, the
 * index copy and --check's probe are sealed by one code path, the four
 * backends stay as they are, and every reader (restore, apply, show, log,
 * verify, reindex, the collector's start-up reconciliation) receives the
 * gzip member it always did. The name decides, not a setting: a mixed
 * archive (plain objects from before encryption was turned on, sealed ones
 * after, or objects of several keys) reads back object by object, and the
 * name is the additional authenticated data, so that no sealed object can
 * be passed off as another.
 *
 * libcrypto's EVP interface does the cipher; the nonce comes from
 * RAND_bytes. EVP counts lengths in int, so the data goes through in
 * slices. Opening decrypts in place, then moves the plaintext down over the
 * header: no second buffer of the object's size. Nothing of a failed open
 * is kept: the buffer is cut back to where the object started. */
#include "seal.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "quote.h"

/* EVP's lengths are int; feed it at most this much at a time */
#define SEAL_SLICE ((size_t)1 << 30)

size_t seal_header_len(size_t id_len)
{
    return SEAL_MAGIC_LEN + 2 + id_len + SEAL_NONCE_LEN;
}

size_t seal_overhead(size_t id_len)
{
    return seal_header_len(id_len) + SEAL_TAG_LEN;
}

/* ------------------------------------------------------------------------
 * Sealing
 * ------------------------------------------------------------------------ */

/* Run `len` bytes through an initialised context, from `in` to `out`
 * (which may be the same). */
static int seal_update(EVP_CIPHER_CTX *ctx, int encrypt, unsigned char *out, const unsigned char *in,
                       size_t len)
{
    size_t done = 0;

    while (done < len) {
        size_t n = len - done < SEAL_SLICE ? len - done : SEAL_SLICE;
        int outl = 0;
        int ok = encrypt ? EVP_EncryptUpdate(ctx, out + done, &outl, in + done, (int)n)
                         : EVP_DecryptUpdate(ctx, out + done, &outl, in + done, (int)n);

        if (ok != 1 || (size_t)outl != n)
            return -1;
        done += n;
    }
    return 0;
}

/* The additional authenticated data: header, then name. */
static int seal_aad(EVP_CIPHER_CTX *ctx, int encrypt, const unsigned char *hdr, size_t hlen, const char *name)
{
    int outl = 0;
    size_t nlen = strlen(name);

    if (encrypt)
        return EVP_EncryptUpdate(ctx, NULL, &outl, hdr, (int)hlen) == 1 &&
                       EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)name, (int)nlen) == 1
                   ? 0
                   : -1;
    return EVP_DecryptUpdate(ctx, NULL, &outl, hdr, (int)hlen) == 1 &&
                   EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)name, (int)nlen) == 1
               ? 0
               : -1;
}

int seal_object(const struct keyring_key *k, const char *name, const void *plain, size_t len, struct buf *out,
                struct err *e)
{
    char shown[QUOTE_NAME_BUFSZ];
    size_t idlen = strlen(k->id), hlen = seal_header_len(idlen), at = out->len;
    unsigned char *hdr, *ct;
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, rc = -1;

    if ((uint64_t)len > SEAL_PLAIN_MAX || strlen(name) > INT_MAX / 2)
        return err_set(e, ERR_IO, "object %s: %zu bytes, more than AES-GCM seals under one nonce",
                       quote_name(shown, sizeof(shown), name), len);
    if (idlen == 0 || idlen > OBJNAME_KEY_ID_MAX)
        return err_set(e, ERR_CONFIG, "object %s: bad key id", quote_name(shown, sizeof(shown), name));
    buf_reserve(out, hlen + len + SEAL_TAG_LEN);
    hdr = (unsigned char *)out->data + at;
    memcpy(hdr, SEAL_MAGIC, SEAL_MAGIC_LEN);
    hdr[SEAL_MAGIC_LEN] = SEAL_VERSION;
    hdr[SEAL_MAGIC_LEN + 1] = (unsigned char)idlen;
    memcpy(hdr + SEAL_MAGIC_LEN + 2, k->id, idlen);
    if (RAND_bytes(hdr + SEAL_MAGIC_LEN + 2 + idlen, SEAL_NONCE_LEN) != 1) {
        err_set(e, ERR_IO, "object %s: no random bytes for its nonce (RAND_bytes failed)",
                quote_name(shown, sizeof(shown), name));
        goto out;
    }
    ct = hdr + hlen;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, hdr + SEAL_MAGIC_LEN + 2 + idlen) != 1 ||
        seal_aad(ctx, 1, hdr, hlen, name) < 0 || seal_update(ctx, 1, ct, plain, len) < 0 ||
        EVP_EncryptFinal_ex(ctx, ct + len, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1) {
        err_set(e, ERR_IO, "object %s: AES-256-GCM sealing failed in libcrypto",
                quote_name(shown, sizeof(shown), name));
        goto out;
    }
    out->len = at + hlen + len + SEAL_TAG_LEN;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    out->data[out->len] = '\0';
    return rc;
}

/* ------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------ */

/* Check the header of obj[0..len); its key id into id, its length into
 * *hlen. */
static int seal_header(const unsigned char *obj, size_t len, const char *name, char *id, size_t *hlen,
                       struct err *e)
{
    char shown[QUOTE_NAME_BUFSZ];
    size_t idlen;

    if (len < SEAL_MAGIC_LEN + 2 || memcmp(obj, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
        return err_set(e, ERR_CORRUPT, "object %s is not a sealed object: it does not start with \"%s\"",
                       quote_name(shown, sizeof(shown), name), SEAL_MAGIC);
    if (obj[SEAL_MAGIC_LEN] != SEAL_VERSION)
        return err_set(e, ERR_CORRUPT, "object %s: seal format version %u, this aofroll reads version %d",
                       quote_name(shown, sizeof(shown), name), obj[SEAL_MAGIC_LEN], SEAL_VERSION);
    idlen = obj[SEAL_MAGIC_LEN + 1];
    if (idlen == 0 || idlen > OBJNAME_KEY_ID_MAX || len < seal_overhead(idlen))
        return err_set(e, ERR_CORRUPT, "object %s: %zu bytes, a truncated or damaged sealed object",
                       quote_name(shown, sizeof(shown), name), len);
    memcpy(id, obj + SEAL_MAGIC_LEN + 2, idlen);
    id[idlen] = '\0';
    if (!objname_valid_key_id(id))
        return err_set(e, ERR_CORRUPT, "object %s: its seal header holds no valid key id",
                       quote_name(shown, sizeof(shown), name));
    *hlen = seal_header_len(idlen);
    return 0;
}

int seal_missing_key(const struct keyring *kr, const char *name, const char *id, struct err *e)
{
    char shown[QUOTE_NAME_BUFSZ];

    return err_set(
        e, ERR_CONFIG,
        "object %s is sealed with key \"%s\", which key file \"%s\" does not hold HINT: put the line "
        "of key \"%s\" back into the key file",
        quote_name(shown, sizeof(shown), name), id, kr->path, id);
}

int seal_key_id(const void *obj, size_t len, const char *name, char *id, struct err *e)
{
    size_t hlen;

    return seal_header(obj, len, name, id, &hlen, e);
}

int seal_open(const struct keyring *kr, const char *name, const char *expect_id, struct buf *b, size_t from,
              struct err *e)
{
    char shown[QUOTE_NAME_BUFSZ], id[OBJNAME_KEY_ID_MAX + 1];
    unsigned char *obj = (unsigned char *)b->data + from, *ct, tag[SEAL_TAG_LEN];
    const struct keyring_key *k;
    size_t len = b->len - from, hlen = 0, ctlen;
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, rc = -1;

    if (seal_header(obj, len, name, id, &hlen, e) < 0)
        goto out;
    if (expect_id != NULL && strcmp(id, expect_id) != 0) {
        err_set(e, ERR_CORRUPT, "object %s: its header names key \"%s\", its name key \"%s\"",
                quote_name(shown, sizeof(shown), name), id, expect_id);
        goto out;
    }
    k = keyring_find(kr, id);
    if (k == NULL) {
        seal_missing_key(kr, name, id, e);
        goto out;
    }
    ct = obj + hlen;
    ctlen = len - hlen - SEAL_TAG_LEN;
    memcpy(tag, ct + ctlen, SEAL_TAG_LEN);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, obj + hlen - SEAL_NONCE_LEN) != 1 ||
        seal_aad(ctx, 0, obj, hlen, name) < 0 || seal_update(ctx, 0, ct, ct, ctlen) < 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1) {
        err_set(e, ERR_IO, "object %s: AES-256-GCM opening failed in libcrypto",
                quote_name(shown, sizeof(shown), name));
        goto out;
    }
    if (EVP_DecryptFinal_ex(ctx, ct + ctlen, &outl) != 1) {
        err_set(e, ERR_CORRUPT,
                "object %s does not open with key \"%s\" of key file \"%s\": the key under that id is not "
                "the one "
                "it was sealed with, or the object was altered",
                quote_name(shown, sizeof(shown), name), id, kr->path);
        goto out;
    }
    memmove(obj, ct, ctlen);
    b->len = from + ctlen;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (rc < 0)
        b->len = from;
    if (b->data != NULL)
        b->data[b->len] = '\0';
    return rc;
}
