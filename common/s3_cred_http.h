/* s3_cred_http.h - the credential sources of s3_cred.c that answer over
 * HTTP: STS for a web identity, the container endpoint, EC2 instance
 * metadata (IMDSv2). Used by s3_cred.c only.
 *
 * s3_cred_http_new() reads the environment variables of one source and
 * says whether they configure it; s3_cred_http_fetch() asks the source for
 * credentials (again at each refresh: a web identity token file and a
 * container authorization token file are read anew each time, since
 * Kubernetes and EKS rotate them). Each source owns a libcurl handle. */
#ifndef AOFROLL_S3_CRED_HTTP_H
#define AOFROLL_S3_CRED_HTTP_H

#include "error.h"
#include "s3_cred.h"

enum s3_cred_http_kind { S3_CRED_WEB_IDENTITY, S3_CRED_CONTAINER, S3_CRED_IMDS };

struct s3_cred_http;

/* 0 with *out set when the environment configures the source, 0 with
 * *out NULL when it does not (`why` then says so, e.g. "not configured"),
 * -1 when it is configured wrongly (a container URI on a host the SDKs
 * refuse, an authorization token with a line break). */
int s3_cred_http_new(enum s3_cred_http_kind kind, const struct s3_cred_options *o, struct s3_cred_http **out,
                     char *why, size_t whysz, struct err *e);
/* Fetch credentials into *out (zeroed first; out->source and
 * out->expires are set too). On failure *out holds nothing. */
int s3_cred_http_fetch(struct s3_cred_http *h, struct s3_cred *out, struct err *e);
const char *s3_cred_http_describe(const struct s3_cred_http *h);
void s3_cred_http_free(struct s3_cred_http *h);

#endif
