/* s3_cred.h - where the S3 backend finds its credentials, and keeping
 * them fresh.
 *
 * A chain of sources tried in the order the AWS SDKs use; the first that
 * has credentials is the one a storage handle keeps for its lifetime:
 *
 *  0. storage.s3.credentials_file when the config names one: that file
 *     only (profile [default] or AWS_PROFILE's), nothing else is tried;
 *  1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional
 *     AWS_SESSION_TOKEN;
 *  2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, exchanged
 *     at STS (AssumeRoleWithWebIdentity) - Kubernetes service accounts;
 *  3. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else
 *     ~/.aws/credentials, profile AWS_PROFILE or [default];
 *  4. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
 *     _FULL_URI (ECS, EKS Pod Identity), with
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *  5. EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED.
 *
 * A source that is not configured is passed over. One that is configured
 * but fails is an error (a credentials file others may read, a web
 * identity that STS refuses), except the container endpoint and instance
 * metadata, which fall through to the next source, as a process that is
 * not in a container or on EC2 sees them fail. Sources 2, 4 and 5 give
 * temporary credentials with an expiry: s3_cred_chain_get() fetches new
 * ones from the same source five minutes before it (half-way through a
 * lifetime shorter than ten minutes). Each storage handle owns its chain
 * (and its libcurl handle for these requests): nothing is shared between
 * threads. Secrets never appear in a message and are wiped from memory
 * when replaced or freed. The HTTP sources are in s3_cred_http.c. */
#ifndef AOFROLL_S3_CRED_H
#define AOFROLL_S3_CRED_H

#include <stdint.h>

#include "error.h"

struct s3_cred {
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when none */
    char *source;        /* e.g. "the environment", "credentials file \"PATH\" [profile]": for messages */
    int64_t expires;     /* unix seconds; 0 = does not expire */
};

/* What the chain reads besides the process environment. */
struct s3_cred_options {
    const char *credentials_file; /* storage.s3.credentials_file; NULL = the chain */
    const char *region;           /* the storage's region: STS is asked in AWS_REGION, else this one */
    const char *sts_endpoint;     /* storage.s3.sts_endpoint; NULL = AWS_ENDPOINT_URL_STS, else regional */
    const char *ca_bundle;        /* for https STS and container endpoints; NULL = system CAs */
};

struct s3_cred_chain;

/* Find the first source with credentials and fetch them. */
int s3_cred_chain_open(const struct s3_cred_options *o, struct s3_cred_chain **out, struct err *e);
/* The credentials to sign with now, refreshed first when they are near
 * their expiry, or at once with `force` (S3 said the token expired). A
 * failed refresh keeps credentials that have not expired yet (and is tried
 * again 10 s later); once they have, it is an error. The pointer stays
 * valid until the next call. */
int s3_cred_chain_get(struct s3_cred_chain *c, int force, const struct s3_cred **out, struct err *e);
/* "web identity: role \"ARN\" via STS \"URL\"" and the like: for --check. */
const char *s3_cred_chain_describe(const struct s3_cred_chain *c);
void s3_cred_chain_close(struct s3_cred_chain *c);

/* From one profile of an AWS credentials file (mode 0600 or 0400 only). */
int s3_cred_from_file(const char *path, const char *profile, struct s3_cred *out, struct err *e);
void s3_cred_free(struct s3_cred *c);

#endif
