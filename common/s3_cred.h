/* s3_cred.h - where the S3 backend finds its access key.
 *
 * Two sources, as with the AWS tools: a credentials file in the AWS ini
 * format when the config names one (storage.s3.credentials_file; profile
 * [default], or the one AWS_PROFILE names), else the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN).
 * A credentials file that group or others may read is refused, like ssh
 * refuses such a private key. The secret never appears in a message and
 * is wiped from memory by s3_cred_free(). */
#ifndef AOFROLL_S3_CRED_H
#define AOFROLL_S3_CRED_H

#include "error.h"

struct s3_cred {
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when none */
    char *source;        /* "the environment" or "credentials file \"PATH\" [profile]": for messages */
};

/* From `credentials_file` when non-NULL, else from the environment. */
int s3_cred_load(const char *credentials_file, struct s3_cred *out, struct err *e);
/* From one profile of an AWS credentials file. */
int s3_cred_from_file(const char *path, const char *profile, struct s3_cred *out, struct err *e);
void s3_cred_free(struct s3_cred *c);

#endif
