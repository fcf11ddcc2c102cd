#!/bin/bash
# it_s3_creds.sh - where the s3:// backend gets its credentials, against
# moto_server with its authentication on (it checks every signature and
# session token against the IAM users and STS sessions it made).
#
#   1. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, exchanged
#      at moto's STS (AssumeRoleWithWebIdentity), the STS endpoint from
#      AWS_ENDPOINT_URL_STS or storage.s3.sts_endpoint; the temporary keys
#      and session token are accepted by moto; STS refusing and a missing
#      token file are one line each, without the token;
#   2. the container endpoint and 3. IMDSv2, played by tests/cred_server.py
#      handing out moto IAM keys with a short Expiration: the
#      authorization token (from a file, as EKS Pod Identity has it), the
#      IMDSv2 session token and its TTL (a lapsed token is replaced),
#      refreshes before each expiry, a failing container endpoint falling
#      through to IMDS, a failing IMDS ending the chain, credentials that
#      cannot be refreshed serving until they expire;
#      With moto's authentication on, the endpoint switches to a second
#      key, the first is deleted from moto's IAM once every copy of it has
#      expired, and a reader that runs on through it all keeps working;
#   4. a collector that runs past its credentials' expiry keeps shipping:
#      the same switch, with tests/s3_faultproxy.py checking signatures
#      against the keys it is told are valid (moto with authentication on
#      mis-checks the "/" of the collector's list prefixes), and the first
#      key dropped from them; chunks keep coming with no error, and the
#      archive equals the AOF.
# moto is told to let one unsigned action through (POST /moto-api/reset-auth,
# body 1) where the test itself must talk to IAM, or where STS must answer
# an unsigned AssumeRoleWithWebIdentity (moto wants every call signed; AWS
# does not for that one). No request ever leaves loopback:
# instance metadata is disabled or pointed at cred_server.py.
. "$(dirname "$0")/lib/scenario.sh" collector services

have_moto || skip "moto_server not found"
need_probe
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE=$T/no-credentials-file
start_moto
start_service creds /__control__/stats python3 "$SRC/tests/cred_server.py" --port @PORT@
CRED=http://127.0.0.1:$SERVICE_PORT
export AOFROLL_SUITE_URL=s3://$BUCKET/arch AOFROLL_SUITE_S3_ENDPOINT=$MOTO AOFROLL_SUITE_S3_PATH_STYLE=1
export AOFROLL_SUITE_S3_REGION=us-east-1

auth_on() { curl -sf -X POST "$MOTO/moto-api/reset-auth" -H "Content-Type: text/plain" --data "${1:-0}" >/dev/null || fail "moto reset-auth"; }
control() { curl -sf -X POST "$CRED/__control__/config" -d "$1" >/dev/null || fail "cred_server config $1"; }
cstat() { curl -sf "$CRED/__control__/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
POLICY="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\",
  \"Resource\": [\"arn:aws:s3:::$BUCKET\", \"arn:aws:s3:::$BUCKET/*\"]}]}"
new_key() { # new_key USER: prints "ACCESS_KEY SECRET"
    local out
    moto_iam -d Action=CreateAccessKey -d "UserName=$1" >"$T/key.xml" || fail "iam CreateAccessKey $1"
    out=$(cat "$T/key.xml")
    echo "$(echo "$out" | xml_field AccessKeyId) $(echo "$out" | xml_field SecretAccessKey)"
}
moto_iam -d Action=CreateUser -d UserName=aofroll >/dev/null || fail "iam CreateUser"
moto_iam -d Action=PutUserPolicy -d UserName=aofroll -d PolicyName=s3 --data-urlencode "PolicyDocument=$POLICY" >/dev/null ||
    fail "iam PutUserPolicy"
read -r AK1 SK1 <<<"$(new_key aofroll)"
read -r AK2 SK2 <<<"$(new_key aofroll)"
TRUST='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "kubernetes"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}'
ROLE_ARN=$(moto_iam -d Action=CreateRole -d RoleName=aofroll-pod --data-urlencode "AssumeRolePolicyDocument=$TRUST" | xml_field Arn)
moto_iam -d Action=PutRolePolicy -d RoleName=aofroll-pod -d PolicyName=s3 --data-urlencode "PolicyDocument=$POLICY" >/dev/null ||
    fail "iam PutRolePolicy"
[ -n "$AK1" ] && [ -n "$AK2" ] && [ -n "$ROLE_ARN" ] || fail "no keys or role from moto's IAM"
printf 'credential scenario\n' >"$T/obj"
auth_on 0
expect_exit 1 "$PROBE" head nothing
grep -q "no s3 credentials: AWS_ACCESS_KEY_ID is not set; web identity: not configured; credentials file \"$T/no-credentials-file\": absent; container endpoint: not configured; instance metadata: disabled (AWS_EC2_METADATA_DISABLED)" \
    "$T/last.err" || fail "no credentials at all: $(cat "$T/last.err")"
pass "moto (authentication on), two IAM keys, a role for pods and cred_server.py are up; no source at all is one line"

# --- 1. web identity -----------------------------------------------------------
JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YW9mcm9sbDphb2Zyb2xsIn0.c2lnbmF0dXJl"
printf '%s\n' "$JWT" >"$T/token"
export AWS_WEB_IDENTITY_TOKEN_FILE=$T/token AWS_ROLE_ARN=$ROLE_ARN AWS_ROLE_SESSION_NAME=aofroll-it
export AWS_ENDPOINT_URL_STS=$MOTO
auth_on 1 # the AssumeRoleWithWebIdentity call; the PUT is checked
expect_exit 0 "$PROBE" put wi/x "$T/obj"
auth_on 1
"$PROBE" get wi/x >"$T/wi.back" 2>"$T/last.err" && cmp -s "$T/obj" "$T/wi.back" || fail "get with web identity: $(cat "$T/last.err")"
auth_on 1
"$PROBE" auth >"$T/auth.out" || fail "probe auth"
assert_eq "$(cat "$T/auth.out")" "credentials from web identity: role \"$ROLE_ARN\" via STS \"$MOTO\"" "source named"
# storage.s3.sts_endpoint wins over the environment
auth_on 1
AWS_ENDPOINT_URL_STS=http://127.0.0.1:9 AOFROLL_SUITE_S3_STS_ENDPOINT=$MOTO/ expect_exit 0 "$PROBE" head wi/x
# STS refusing (moto refuses an unsigned call once its authentication is on; it answers 500)
auth_on 0
expect_exit 1 "$PROBE" head wi/x
grep -q "s3 credentials from a web identity: STS AssumeRoleWithWebIdentity at \"$MOTO\": HTTP [45][0-9][0-9]" "$T/last.err" ||
    fail "STS refusing: $(cat "$T/last.err")"
grep -qF "$JWT" "$T/last.err" && fail "the web identity token appears in the message"
rm "$T/token"
expect_exit 1 "$PROBE" head wi/x
grep -q "s3 credentials from a web identity: cannot open web identity token file \"$T/token\"" "$T/last.err" ||
    fail "missing token file: $(cat "$T/last.err")"
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_ENDPOINT_URL_STS
pass "web identity: STS's temporary keys and token accepted by moto; STS refusing or no token file: one line"

# --- 2. the container endpoint -----------------------------------------------------
printf 'pod-identity-token\n' >"$T/ctoken"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$CRED/creds/v1 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$T/ctoken
control "{\"container\": [\"$AK1\", \"$SK1\", null], \"auth_token\": \"pod-identity-token\", \"expires_in\": 6}"
expect_exit 0 "$PROBE" put ct/x "$T/obj"
assert_eq "$("$PROBE" auth)" "credentials from container endpoint \"$CRED/creds/v1\"" "source named"
# refresh: 6 s credentials are fetched again 3 s before they expire
before=$(cstat container)
expect_exit 0 "$PROBE" get-every 10 ct/x
fetched=$(($(cstat container) - before))
[ "$fetched" -ge 3 ] && [ "$fetched" -le 5 ] || fail "$fetched fetches in 10 s of 6 s credentials (expected 3 to 5)"
# a wrong authorization token: refused, the chain goes on to IMDS (disabled here)
printf 'stale\n' >"$T/ctoken"
expect_exit 1 "$PROBE" head ct/x
grep -q "; container endpoint \"$CRED/creds/v1\": HTTP 401; instance metadata: disabled" "$T/last.err" ||
    fail "wrong container token: $(cat "$T/last.err")"
grep -q "pod-identity-token\|stale" "$T/last.err" && fail "the authorization token appears in the message"
unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
export AWS_CONTAINER_AUTHORIZATION_TOKEN=pod-identity-token
expect_exit 0 "$PROBE" head ct/x
pass "container endpoint: authorization token from a file or the environment, $fetched fetches of 6 s credentials in 10 s"

# delete_key AK: from moto's IAM, authentication staying on (one unsigned
# action let through at a time; a request of the reader may take it first)
delete_key() {
    local _
    for _ in $(seq 1 50); do
        auth_on 1
        if moto_iam -d Action=DeleteAccessKey -d UserName=aofroll -d "AccessKeyId=$1" >/dev/null 2>&1; then
            auth_on 0
            return 0
        fi
    done
    fail "could not delete key $1 from moto"
}
# a reader through a key change: the first key is deleted once every copy
# handed out has expired; the reader goes on with the second
"$PROBE" get-every 16 ct/x >/dev/null 2>"$T/reader.err" &
READER=$!
PIDS_TO_KILL+=("$READER")
sleep 1
control "{\"container\": [\"$AK2\", \"$SK2\", null]}"
sleep 7
delete_key "$AK1"
wait "$READER" || fail "the reader failed once the first key was deleted: $(cat "$T/reader.err")"
expect_exit 1 env AWS_ACCESS_KEY_ID="$AK1" AWS_SECRET_ACCESS_KEY="$SK1" "$PROBE" get ct/x
grep -q "HTTP 403 InvalidAccessKeyId" "$T/last.err" || fail "the first key still works: $(cat "$T/last.err")"
pass "moto with authentication on: a reader outlives its first key (deleted after the switch) on refreshed credentials"

# the endpoint failing: the credentials in hand serve until they expire, then one line
control '{"expires_in": 4}'
start=$SECONDS
"$PROBE" get-every 10 ct/x >/dev/null 2>"$T/lapse.err" &
READER=$!
PIDS_TO_KILL+=("$READER")
sleep 1
control '{"fail_container": 503}'
wait "$READER" && fail "reads went on after the credentials expired with their endpoint down"
lasted=$((SECONDS - start))
[ "$lasted" -ge 3 ] && [ "$lasted" -le 7 ] || fail "reads stopped after $lasted s (credentials of 4 s, endpoint down after 1 s)"
grep -q "s3 credentials from container endpoint \"$CRED/creds/v1\" expired 20[-0-9T:]*Z and cannot be refreshed: container endpoint \"$CRED/creds/v1\": HTTP 503" \
    "$T/lapse.err" || fail "unexpected message: $(cat "$T/lapse.err")"
control '{"fail_container": 0, "expires_in": 6}'
pass "the endpoint down: credentials in hand serve until their expiry ($lasted s), then one line naming both"

# --- 3. IMDSv2 -----------------------------------------------------------------------
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$CRED
control "{\"imds\": [\"$AK2\", \"$SK2\", null], \"fail_container\": 503, \"expires_in\": 4, \"token_ttl\": 3}"
expect_exit 0 "$PROBE" put md/x "$T/obj"
assert_eq "$("$PROBE" auth)" "credentials from instance metadata \"$CRED\" (IMDSv2), role \"aofroll-role\"" \
    "a failing container endpoint falls through to IMDS"
assert_eq "$(cstat ttl_asked)" 21600 "token TTL asked for"
tokens=$(cstat imds_token)
lapsed=$(cstat imds_401)
expect_exit 0 "$PROBE" get-every 8 md/x
[ "$(cstat imds_401)" -gt "$lapsed" ] || fail "no IMDS token lapsed in 8 s of 3 s tokens"
[ "$(cstat imds_token)" -gt "$tokens" ] || fail "no new IMDS token after one lapsed"
[ "$(cstat imds_creds)" -ge 4 ] || fail "only $(cstat imds_creds) IMDS credential fetches"
unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN
control '{"fail_imds": 500}'
expect_exit 1 "$PROBE" head md/x
grep -q "container endpoint: not configured; instance metadata token at \"$CRED/latest/api/token\": HTTP 500: HINT" \
    "$T/last.err" || fail "IMDS failing: $(cat "$T/last.err")"
asked=$(cstat imds_token)
AWS_EC2_METADATA_DISABLED=true expect_exit 1 "$PROBE" head md/x
assert_eq "$(cstat imds_token)" "$asked" "IMDS requests with AWS_EC2_METADATA_DISABLED=true"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_EC2_METADATA_SERVICE_ENDPOINT
pass "IMDSv2: token first (TTL 21600 asked), a lapsed token replaced, refreshes; failing: one line; disabled: never asked"

# --- 4. a collector running past its credentials' expiry ---------------------------
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$CRED/creds AWS_CONTAINER_AUTHORIZATION_TOKEN=pod-identity-token
LIFE=8
auth_on 1000000000 # the proxy checks signatures from here on
AWS_SECRET_ACCESS_KEY=unused start_proxy
proxy_post verify "{\"keys\": {\"$AK1\": \"$SK1\", \"$AK2\": \"$SK2\"}}"
control "{\"container\": [\"$AK1\", \"$SK1\", null], \"fail_container\": 0, \"expires_in\": $LIFE}"
collector_redis
CFG=$T/c.yaml
main_config "$CFG" "$T/index.db" "  url: s3://$BUCKET/coll" "  s3:" "    endpoint: http://127.0.0.1:$PROXY_PORT" \
    "    path_style: true"
expect_exit 0 "$BIN/aofroll-collector" -c "$CFG" --check
grep -qx "storage credentials: credentials from container endpoint \"$CRED/creds\"" "$T/last.out" ||
    fail "--check does not name the credential source: $(cat "$T/last.out")"
grep -qF "$SK1" "$T/last.out" && fail "--check shows the secret"
chunks() { sqlite3 "$T/index.db" "select count(*) from chunks where kind = 'incr'" 2>/dev/null || echo 0; }
python3 "$WRITER_PY" loop "$PORT" 7 >"$T/writer.log" 2>&1 &
WPID=$!
PIDS_TO_KILL+=("$WPID")
collector_start "$T/collector.log" -c "$CFG"
wait_until 30 bash -c "[ \$(sqlite3 '$T/index.db' \"select count(*) from chunks where kind = 'incr'\" 2>/dev/null || echo 0) -ge 3 ]" ||
    fail "no chunks shipped in 30 s: $(tail -5 "$T/collector.log")"
control "{\"container\": [\"$AK2\", \"$SK2\", null]}"
SWITCH=$SECONDS
# every copy of the first key expires at most LIFE s after the switch
sleep $((LIFE + 1))
proxy_post verify "{\"keys\": {\"$AK2\": \"$SK2\"}}"
LOG_LINES=$(wc -l <"$T/collector.log")
AFTER=$(chunks)
FETCHED=$(cstat container)
sleep $((2 * LIFE))
kill "$WPID"
wait "$WPID" 2>/dev/null
[ "$(chunks)" -ge $((AFTER + 5)) ] || fail "only $(($(chunks) - AFTER)) chunks shipped in $((2 * LIFE)) s after the first key was deleted"
[ "$(cstat container)" -ge $((FETCHED + 2)) ] || fail "the collector did not refresh its credentials"
INCR=$R/appendonlydir/appendonly.aof.1.incr.aof
wait_until 60 bash -c "[ \"\$(sqlite3 '$T/index.db' \"select coalesce(max(end), 0) from chunks where kind = 'incr'\")\" = \"\$(stat -c %s '$INCR')\" ]" ||
    fail "the collector did not catch up: $(tail -3 "$T/collector.log")"
collector_stop
tail -n +$((LOG_LINES + 1)) "$T/collector.log" | grep -E ' (ERROR|WARN) ' && fail "errors after the key was deleted"
grep -q 'InvalidAccessKeyId\|SignatureDoesNotMatch' "$T/collector.log" && fail "a request was refused: $(grep -m1 Invalid "$T/collector.log")"
assert_eq "$(stat_of rejected)" 0 "requests the proxy refused"
mkdir -p "$T/fetched"
AOFROLL_SUITE_URL=s3://$BUCKET/coll/ AWS_ACCESS_KEY_ID=$AK2 AWS_SECRET_ACCESS_KEY=$SK2 "$PROBE" list main/gen-000001/incr/ |
    cut -f1 >"$T/keys" || fail "cannot list the archive"
while read -r key; do
    AOFROLL_SUITE_URL=s3://$BUCKET/coll/ AWS_ACCESS_KEY_ID=$AK2 AWS_SECRET_ACCESS_KEY=$SK2 "$PROBE" get "$key"
done <"$T/keys" | gunzip | cmp -s - "$INCR" || fail "the archive in moto differs from the incr file"
pass "a collector ran $((SECONDS - SWITCH)) s past the switch ($(( $(cstat container) - FETCHED )) refreshes after the old key was dropped): no error, the archive equals the AOF"

done_testing
