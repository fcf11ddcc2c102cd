#!/bin/bash
# it_storage_s3.sh - the s3:// backend against moto_server on loopback.
#
# moto plays S3 and IAM. Requests go through tests/s3_faultproxy.py, which
# checks every SigV4 signature, x-amz-content-sha256 and Content-MD5 the
# way S3 does (moto does not), counts requests and injects faults. Then:
#   1. the shared storage suite (tests/storage_suite.c), signatures checked;
#   2. backend cases through storage_probe: keys that need encoding,
#      virtual-hosted addressing, what boto3 reads back, storage class and
#      encryption headers, listing and batch delete across pages, retries
#      (5xx, 429, dropped and hung connections) and no retry on 4xx;
#   3. moto's own authentication on, with an IAM user holding the minimal
#      policy of docs/storage.md: a wrong secret is refused with 403
#      SignatureDoesNotMatch (the message never shows it), writes outside
#      the prefix are denied, credentials files are checked.
# With auth on, moto mis-checks "%2F" in query values (boto3 fails the
# same way), so lists in part 3 use prefixes without '/'; part 1 lists with
# '/' while the proxy checks those signatures instead.
. "$(dirname "$0")/lib/scenario.sh" services

have_moto || skip "moto_server not found"
need_probe storage_suite

# --- servers ---------------------------------------------------------------
start_moto
start_proxy_to "$MOTO"
# new_user NAME POLICY_JSON: prints "ACCESS_KEY SECRET"
new_user() {
    local out
    moto_iam -d Action=CreateUser -d "UserName=$1" >/dev/null || fail "iam CreateUser $1"
    moto_iam -d Action=PutUserPolicy -d "UserName=$1" -d PolicyName=aofroll --data-urlencode "PolicyDocument=$2" \
        >/dev/null || fail "iam PutUserPolicy $1"
    out=$(moto_iam -d Action=CreateAccessKey -d "UserName=$1") || fail "iam CreateAccessKey $1"
    echo "$(echo "$out" | xml_field AccessKeyId) $(echo "$out" | xml_field SecretAccessKey)"
}

# The minimal policy of docs/storage.md for s3://aofroll-test/arch, plus
# s3:DeleteObject on the bucket itself: moto checks DeleteObjects against
# the bucket ARN, where AWS checks each key.
policy() { # policy PREFIX EXTRA_DELETE_RESOURCE
    cat <<EOF
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::$BUCKET",
   "Condition": {"StringLike": {"s3:prefix": ["$1/*"]}}},
  {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
   "Resource": ["arn:aws:s3:::$BUCKET/$1/*"$2]}]}
EOF
}
read -r AK SK <<<"$(new_user aofroll "$(policy arch ", \"arn:aws:s3:::$BUCKET\"")")"
read -r AK2 SK2 <<<"$(new_user noprune "$(policy arch "")")"
[ -n "$AK" ] && [ -n "$SK" ] && [ -n "$AK2" ] || fail "no access keys from moto's IAM"
pass "moto_server, IAM users and the fault proxy are up"

export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK
unset AWS_SESSION_TOKEN AWS_PROFILE
export AOFROLL_SUITE_S3_ENDPOINT=$PROXY AOFROLL_SUITE_S3_PATH_STYLE=1 AOFROLL_SUITE_S3_REGION=us-east-1
proxy_post verify "{\"secret\": \"$SK\"}"

# --- 1. the shared suite ---------------------------------------------------
proxy_post reset
AOFROLL_SUITE_URL=s3://$BUCKET/arch/suite "$BIN/storage_suite" >"$T/suite.out" 2>&1 ||
    fail "storage_suite against s3: $(grep -E 'ERROR|FAIL|Error' "$T/suite.out" | head -5)"
assert_eq "$(stat_of rejected)" 0 "requests whose signature or body hash the proxy rejected"
[ "$(stat_of requests)" -gt 1000 ] || fail "the suite made only $(stat_of requests) requests"
pass "storage suite on s3 (path-style): $(stat_of requests) requests, every signature and body hash valid"

# --- 2. backend cases, auth checked by the proxy ---------------------------
export AOFROLL_SUITE_URL=s3://$BUCKET/arch/cases/
probe_basics
pass "put/get/head/list, with a key needing every kind of encoding"

# virtual-hosted addressing: aofroll-test.localhost:PORT (curl resolves *.localhost itself)
AOFROLL_SUITE_S3_ENDPOINT=http://localhost:$PROXY_PORT AOFROLL_SUITE_S3_PATH_STYLE=0 "$PROBE" get "$KEY" >"$T/vh.back" ||
    fail "virtual-hosted get failed"
cmp -s "$T/big.bin" "$T/vh.back" || fail "virtual-hosted get differs"
assert_eq "$(AOFROLL_SUITE_S3_ENDPOINT=http://localhost:$PROXY_PORT AOFROLL_SUITE_S3_PATH_STYLE=0 "$PROBE" list inst/ | cut -f1)" \
    "$KEY" "virtual-hosted list"
pass "virtual-hosted addressing"

# storage class and server-side encryption headers
AOFROLL_SUITE_S3_STORAGE_CLASS=STANDARD_IA AOFROLL_SUITE_S3_SSE=AES256 expect_exit 0 "$PROBE" put sc/x "$T/odd.bin"

if python3 -c "import boto3" 2>/dev/null; then
    printf 'written by boto3\n' >"$T/boto.txt"
    python3 - "$MOTO" "$BUCKET" "arch/cases/" "$KEY" "$T" "$ODD" <<'EOF' || fail "boto3 comparison"
import hashlib, sys
import boto3
endpoint, bucket, prefix, key, tmp, odd = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
body = s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()
want = open(tmp + "/big.bin", "rb").read()
assert body == want, "boto3 reads other bytes for %s" % key
assert s3.get_object(Bucket=bucket, Key=prefix + odd)["Body"].read() == open(tmp + "/odd.bin", "rb").read()
head = s3.head_object(Bucket=bucket, Key=prefix + "sc/x")
assert head.get("StorageClass") == "STANDARD_IA", head
assert head.get("ServerSideEncryption") == "AES256", head
s3.put_object(Bucket=bucket, Key=prefix + "from-boto3", Body=open(tmp + "/boto.txt", "rb").read())
EOF
    "$PROBE" get from-boto3 >"$T/boto.back" && cmp -s "$T/boto.txt" "$T/boto.back" || fail "object put by boto3 reads back differently"
    pass "boto3 reads what we wrote (bytes, storage class, encryption) and we read what it wrote"
else
    echo "skipped: boto3 comparison (python3 cannot import boto3)"
fi

# listing and batch delete across pages: 1500 keys = 2 list pages, 2 DeleteObjects
expect_exit 0 "$PROBE" put-many many/k 1500
proxy_post reset
"$PROBE" list many/ >"$T/many.list" || fail "list many/"
assert_eq "$(wc -l <"$T/many.list")" 1500 "keys listed"
cut -f1 "$T/many.list" | LC_ALL=C sort -c || fail "listing is not in byte order"
assert_eq "$(stat_of 'methods.get("GET", 0)')" 2 "ListObjectsV2 pages for 1500 keys"
proxy_post reset
cut -f1 "$T/many.list" | "$PROBE" rm-many 2>"$T/rm.err" || fail "rm-many of 1500 keys: $(cat "$T/rm.err")"
assert_eq "$(stat_of 'methods.get("POST", 0)')" 2 "DeleteObjects requests for 1500 keys"
assert_eq "$("$PROBE" list many/ | wc -l)" 0 "keys left after batch delete"
pass "1500 keys: listed in 2 pages (continuation token) in byte order, removed in 2 batch deletes"

# session token: sent as x-amz-security-token and covered by the signature
proxy_post reset
AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLE/token+with=chars" expect_exit 0 "$PROBE" get sc/x
assert_eq "$(stat_of signed_tokens)" 1 "signed requests carrying x-amz-security-token"
pass "AWS_SESSION_TOKEN is sent as a signed x-amz-security-token"

# retries
probe_retries
proxy_post reset
proxy_post faults '{"status": 500, "count": 100}'
start=$(date +%s%N)
expect_exit 1 "$PROBE" --attempts 3 --base-ms 200 get retry/a
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "$(stat_of requests)" 3 "attempts before giving up"
grep -q 's3 GET "s3://aofroll-test/arch/cases/retry/a": HTTP 500 InternalError: injected by s3_faultproxy (3 attempts)' \
    "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
[ "$elapsed_ms" -ge 300 ] || fail "3 attempts with 200 ms base backoff took only $elapsed_ms ms"
proxy_post reset
proxy_post faults '{"status": 400, "count": 5, "code": "InvalidArgument"}'
expect_exit 1 "$PROBE" get retry/a
assert_eq "$(stat_of requests)" 1 "attempts for a 400"
grep -q "HTTP 400 InvalidArgument" "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
proxy_post reset
expect_exit 3 "$PROBE" get retry/missing
assert_eq "$(stat_of requests)" 1 "attempts for a 404"
grep -q 'object "retry/missing" not found in "s3://aofroll-test/arch/cases/"' "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
pass "retries: 503, 429, dropped and hung connections retried with backoff; 400 and 404 answered at once"

# a hostile or broken S3: listings that would never end, or take a token
# that cannot be sent back whole
page() { # page TOKEN-XML KEY...: a truncated ListBucketResult page
    local t=$1 k out='<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>true</IsTruncated>'
    shift
    for k in "$@"; do
        out+="<Contents><Key>arch/cases/$k</Key><Size>1</Size></Contents>"
    done
    printf '%s<NextContinuationToken>%s</NextContinuationToken></ListBucketResult>' "$out" "$t"
}
hostile() { # hostile BODY: every GET answers BODY (up to 300 times); @NUL@ is a NUL byte
    proxy_post reset
    proxy_post faults "$(python3 -c 'import json,sys; print(json.dumps({"mode": "body", "count": 300, "method": "GET", "body": sys.argv[1].replace("@NUL@", "\0")}))' "$1")"
}
hostile "$(page same-token)"
expect_exit 1 timeout 60 "$PROBE" list loop/
grep -q 'listing "s3://aofroll-test/arch/cases/loop/": S3 answered the same continuation token twice: the listing does not advance' \
    "$T/last.err" || fail "a repeated token: $(cat "$T/last.err")"
assert_eq "$(stat_of requests)" 2 "requests for a listing that repeats its token"
hostile "$(page 'a@NUL@b' loop/x)"
expect_exit 1 timeout 60 "$PROBE" list loop/
grep -q 'listing "s3://aofroll-test/arch/cases/loop/": malformed <NextContinuationToken>' "$T/last.err" ||
    fail "a token with a NUL byte: $(cat "$T/last.err")"
assert_eq "$(stat_of requests)" 1 "requests for a listing whose token holds a NUL byte"
hostile "$(page "t-$RANDOM" loop/a loop/b)"
expect_exit 1 timeout 60 "$PROBE" list loop/
grep -q 'S3 answered keys out of order: the listing does not advance' "$T/last.err" ||
    fail "a listing that starts over: $(cat "$T/last.err")"
assert_eq "$(stat_of requests)" 2 "requests for a listing that starts over with another token"
proxy_post reset
pass "a listing that repeats its token or its keys, or whose token holds a NUL byte: exit 1, no endless loop"

# the proxy's check is a real one: a wrong secret fails it
proxy_post reset
AWS_SECRET_ACCESS_KEY=wrong-secret-for-the-proxy expect_exit 1 "$PROBE" put retry/b "$T/odd.bin"
grep -q "HTTP 403 SignatureDoesNotMatch" "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
assert_eq "$(stat_of rejected)" 1 "requests the proxy refused"
proxy_post verify '{"secret": ""}'
pass "the proxy's own signature check refuses a wrong secret"

# --- 3. moto's authentication on -------------------------------------------
curl -sf -X POST "$MOTO/moto-api/reset-auth" -H "Content-Type: text/plain" --data 0 >/dev/null ||
    fail "cannot turn moto's authentication on"
export AOFROLL_SUITE_S3_ENDPOINT=$MOTO AOFROLL_SUITE_URL=s3://$BUCKET/arch
expect_exit 0 "$PROBE" put authed/x "$T/odd.bin"
"$PROBE" get authed/x >"$T/authed.back" && cmp -s "$T/odd.bin" "$T/authed.back" || fail "authenticated get"
# lists without '/' in the prefix (see the top of this file): bucket root
AOFROLL_SUITE_URL=s3://$BUCKET "$PROBE" list arch >"$T/authed.list" 2>"$T/last.err" ||
    fail "authenticated list: $(cat "$T/last.err")"
grep -q "^arch/authed/x	" "$T/authed.list" || fail "authenticated list lacks arch/authed/x"
pass "moto with authentication on accepts our signatures (put, get, list)"

SECRET_WRONG="NotTheSecretAtAll/abcdefghijklmnop1234567"
AWS_SECRET_ACCESS_KEY=$SECRET_WRONG expect_exit 1 "$PROBE" put authed/y "$T/odd.bin"
grep -q 'HTTP 403 SignatureDoesNotMatch' "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
grep -q 'HINT: check the secret key from the environment' "$T/last.err" || fail "no hint: $(cat "$T/last.err")"
grep -qF "$SECRET_WRONG" "$T/last.err" && fail "the secret appears in the message"
AWS_SECRET_ACCESS_KEY=$SECRET_WRONG expect_exit 1 "$PROBE" get authed/x
grep -q 'HTTP 403 SignatureDoesNotMatch' "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
AWS_ACCESS_KEY_ID=AKIANOBODY00000000000 expect_exit 1 "$PROBE" get authed/x
grep -q 'HTTP 403 InvalidAccessKeyId' "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
pass "a wrong secret gets 403 SignatureDoesNotMatch, never shown; an unknown key 403 InvalidAccessKeyId"

AOFROLL_SUITE_URL=s3://$BUCKET/other expect_exit 1 "$PROBE" put x "$T/odd.bin"
grep -q 'HTTP 403 AccessDenied' "$T/last.err" || fail "write outside the prefix: $(cat "$T/last.err")"
AWS_ACCESS_KEY_ID=$AK2 AWS_SECRET_ACCESS_KEY=$SK2 expect_exit 1 "$PROBE" rm-many authed/x
grep -q 'batch delete in "s3://aofroll-test/arch/": 1 of 1 objects not removed; first "s3://aofroll-test/arch/authed/x": AccessDenied' \
    "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
expect_exit 0 "$PROBE" head authed/x
pass "the minimal policy confines us to the prefix; a batch delete reports the keys S3 refused"

# credentials file
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
CRED=$T/credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AK" "$SK" "$AK" "$SECRET_WRONG" >"$CRED"
chmod 644 "$CRED"
AOFROLL_SUITE_S3_CREDENTIALS_FILE=$CRED expect_exit 1 "$PROBE" head authed/x
assert_eq "$(cat "$T/last.err")" \
    "storage_probe: [config] credentials file \"$CRED\" is readable by others (mode 0644): HINT: chmod 600 $CRED" \
    "credentials file mode check"
chmod 600 "$CRED"
AOFROLL_SUITE_S3_CREDENTIALS_FILE=$CRED expect_exit 0 "$PROBE" head authed/x
AWS_PROFILE=other AOFROLL_SUITE_S3_CREDENTIALS_FILE=$CRED expect_exit 1 "$PROBE" get authed/x
grep -q "HINT: check the secret key from credentials file \"$CRED\" \[other\]" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
expect_exit 1 "$PROBE" head authed/x
grep -q "no s3 credentials: AWS_ACCESS_KEY_ID is not set" "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
pass "credentials file: refused when others may read it, [default] and AWS_PROFILE profiles"

done_testing
