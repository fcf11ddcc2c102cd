#!/bin/bash
# it_storage_azure.sh - the azure:// backend against Azurite on loopback.
#
# Azurite (tests/lib/services.sh: npm package, installed on first use into a
# cache outside the checkout) plays Azure Blob storage and checks every SAS
# signature, permission and expiry as Azure does. Requests go through
# tests/s3_faultproxy.py (its signature check off: it only counts
# requests and injects faults; Azure's error bodies have S3's shape). Then:
#   1. the shared storage suite (tests/storage_suite.c);
#   2. backend cases through storage_probe: keys that need encoding, an
#      object above the single-put size put as blocks and committed by Put
#      Block List (checked in Azure's own block list), listing across pages
#      (NextMarker), retries (5xx, 429, dropped and hung connections) and
#      none on 4xx;
#   3. SAS tokens: a wrong signature, an expired token, one without delete
#      permission, a token file others may read, a missing container: each
#      one clear line, never showing the token; --check says where the
#      token came from.
# Without node/npm: skipped (exit 77) with one line.
. "$(dirname "$0")/lib/scenario.sh" services

have_azurite || skip "$AZURITE_WHY"
need_probe
start_azurite
az_create_container arch
start_proxy_to "http://127.0.0.1:$AZ_PORT"
SAS=$(az_container_sas arch racwdl)
export AZURE_STORAGE_SAS_TOKEN=$SAS AOFROLL_SUITE_AZURE_ENDPOINT=$PROXY/$AZ_ACCOUNT
pass "azurite (port $AZ_PORT), container arch, a SAS for it and the fault proxy are up"

# --- 1. the shared suite -----------------------------------------------------
proxy_post reset
AOFROLL_SUITE_URL=azure://$AZ_ACCOUNT/arch/suite "$BIN/storage_suite" >"$T/suite.out" 2>&1 ||
    fail "storage_suite against azure: $(grep -E 'ERROR|FAIL|Error' "$T/suite.out" | head -5)"
[ "$(stat_of requests)" -gt 1000 ] || fail "the suite made only $(stat_of requests) requests"
pass "storage suite on azure: $(stat_of requests) requests"

# --- 2. backend cases --------------------------------------------------------
export AOFROLL_SUITE_URL=azure://$AZ_ACCOUNT/arch/cases/
probe_basics
# the blob Azure holds is the object, whatever read it
curl -sf "$AZ_ENDPOINT/arch/cases/$KEY?$SAS" -o "$T/raw.back" && cmp -s "$T/big.bin" "$T/raw.back" ||
    fail "the blob as curl reads it differs"
pass "put/get/head/list, with a key needing every kind of encoding"

# blocks: above the single-put size the object goes up in blocks
proxy_post reset
expect_exit 0 "$PROBE" --single-put-max 1048576 --block-size 524288 put blocks/big "$T/big.bin"
assert_eq "$(stat_of 'methods.get("PUT", 0)')" 8 "PUTs for 3 MiB in 512 KiB blocks (7 Put Block + 1 Put Block List)"
"$PROBE" get blocks/big >"$T/blocks.back" && cmp -s "$T/big.bin" "$T/blocks.back" || fail "block blob reads back differently"
curl -sf -H "x-ms-version: $AZ_VERSION" "$AZ_ENDPOINT/arch/cases/blocks/big?comp=blocklist&blocklisttype=all&$SAS" \
    >"$T/blocklist.xml" || fail "cannot read the block list"
assert_eq "$(grep -o '<Block><Name>' "$T/blocklist.xml" | wc -l)" 7 "committed blocks"
grep -q '<UncommittedBlocks\s*/>\|<UncommittedBlocks></UncommittedBlocks>' "$T/blocklist.xml" ||
    fail "uncommitted blocks left: $(cat "$T/blocklist.xml")"
# an overwrite with blocks replaces the object whole
printf 'small again\n' >"$T/small.bin"
expect_exit 0 "$PROBE" --single-put-max 4 --block-size 5 put blocks/big "$T/small.bin"
"$PROBE" get blocks/big | cmp -s - "$T/small.bin" || fail "block overwrite reads back differently"
pass "above the single-put size: Put Block x7 + Put Block List; Azure's block list has them all, committed"

# listing across pages: 25 keys, 10 a page
expect_exit 0 "$PROBE" put-many many/k 25
proxy_post reset
"$PROBE" --list-max 10 list many/ >"$T/many.list" || fail "list many/"
assert_eq "$(wc -l <"$T/many.list")" 25 "keys listed"
cut -f1 "$T/many.list" | LC_ALL=C sort -c || fail "listing is not in byte order"
assert_eq "$(stat_of 'methods.get("GET", 0)')" 3 "List Blobs pages for 25 keys, 10 a page"
cut -f1 "$T/many.list" | "$PROBE" rm-many 2>"$T/rm.err" || fail "rm-many: $(cat "$T/rm.err")"
assert_eq "$("$PROBE" list many/ | wc -l)" 0 "keys left after rm-many"
pass "25 keys: listed in 3 pages (NextMarker) in byte order, then removed"

# retries
probe_retries '"code": "ServerBusy"'
proxy_post reset
proxy_post faults '{"status": 500, "count": 100, "code": "InternalError"}'
expect_exit 1 "$PROBE" --attempts 3 --base-ms 200 get retry/a
assert_eq "$(stat_of requests)" 3 "attempts before giving up"
assert_eq "$(cat "$T/last.err")" \
    "storage_probe: [io] azure GET \"azure://$AZ_ACCOUNT/arch/cases/retry/a\": HTTP 500 InternalError: injected by s3_faultproxy (3 attempts)" \
    "message after the last attempt"
proxy_post reset
proxy_post faults '{"status": 400, "count": 5, "code": "InvalidHeaderValue"}'
expect_exit 1 "$PROBE" get retry/a
assert_eq "$(stat_of requests)" 1 "attempts for a 400"
proxy_post reset
expect_exit 3 "$PROBE" get retry/missing
expect_exit 3 "$PROBE" head retry/missing
assert_eq "$(stat_of requests)" 2 "attempts for two 404s"
grep -qF "object \"retry/missing\" not found in \"azure://$AZ_ACCOUNT/arch/cases/\"" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
expect_exit 0 "$PROBE" rm retry/missing
pass "retries: 503, 429, dropped and hung connections retried with backoff; 400 and 404 answered at once"

# --- 3. SAS tokens -------------------------------------------------------------
secret_shown() { grep -qF "${1##*sig=}" "$T/last.err" "$T/last.out"; }
BAD=$(az_container_sas arch racwdl | sed 's/sig=[A-Za-z0-9%]\{6\}/sig=AAAAAA/')
AZURE_STORAGE_SAS_TOKEN=$BAD expect_exit 1 "$PROBE" get retry/a
grep -q 'azure GET ".*": HTTP 403 AuthorizationFailure: Server failed to authenticate the request. .*(1 attempt): HINT: check the SAS token from AZURE_STORAGE_SAS_TOKEN (it expires 20' \
    "$T/last.err" || fail "wrong signature: $(cat "$T/last.err")"
secret_shown "$BAD" && fail "the signature appears in the message"
OLD=$(az_container_sas arch racwdl '-1 min')
AZURE_STORAGE_SAS_TOKEN=$OLD expect_exit 1 "$PROBE" put retry/b "$T/odd.bin"
grep -q 'HTTP 403 AuthenticationFailed\|HTTP 403 AuthorizationFailure' "$T/last.err" || fail "expired SAS: $(cat "$T/last.err")"
grep -q "HINT: check the SAS token from AZURE_STORAGE_SAS_TOKEN (it expires $(date -u -d '-1 min' +%Y-%m-%dT%H)" "$T/last.err" ||
    fail "expired SAS hint: $(cat "$T/last.err")"
NODEL=$(az_container_sas arch racwl)
AZURE_STORAGE_SAS_TOKEN=$NODEL expect_exit 1 "$PROBE" rm retry/a
grep -q 'HTTP 403 AuthorizationPermissionMismatch.*HINT: the SAS token from AZURE_STORAGE_SAS_TOKEN grants "racwl"; aofroll needs r, c, w, d and l' \
    "$T/last.err" || fail "SAS without delete: $(cat "$T/last.err")"
expect_exit 0 "$PROBE" head retry/a
# a missing container is an error, not "not found" (an account SAS can see that it is missing)
for op in get head rm; do
    AZURE_STORAGE_SAS_TOKEN=$(az_account_sas rwdlac) AOFROLL_SUITE_URL=azure://$AZ_ACCOUNT/nosuch/x \
        expect_exit 1 "$PROBE" "$op" k
    grep -q 'HTTP 404 ContainerNotFound.*HINT: create the container, or fix the container in storage.url' "$T/last.err" ||
        fail "missing container ($op): $(cat "$T/last.err")"
done
pass "SAS: wrong signature, expired, no delete permission, no container: one line each with a hint, the token never shown"

SASFILE=$T/azure.sas
printf '?%s\n' "$SAS" >"$SASFILE"
chmod 644 "$SASFILE"
AZURE_STORAGE_SAS_TOKEN= AOFROLL_SUITE_AZURE_SAS_TOKEN_FILE=$SASFILE expect_exit 1 "$PROBE" head retry/a
assert_eq "$(cat "$T/last.err")" \
    "storage_probe: [config] SAS token file \"$SASFILE\" is readable by others (mode 0644): HINT: chmod 600 $SASFILE" \
    "SAS token file mode check"
chmod 600 "$SASFILE"
AZURE_STORAGE_SAS_TOKEN=$BAD AOFROLL_SUITE_AZURE_SAS_TOKEN_FILE=$SASFILE expect_exit 0 "$PROBE" head retry/a
AOFROLL_SUITE_AZURE_SAS_TOKEN_FILE=$SASFILE "$PROBE" auth >"$T/auth.out" || fail "probe auth"
grep -qF "SAS token from SAS token file \"$SASFILE\" (permissions \"racwdl\", expires " "$T/auth.out" ||
    fail "auth line: $(cat "$T/auth.out")"
AZURE_STORAGE_SAS_TOKEN= expect_exit 1 "$PROBE" head retry/a
grep -q 'no azure SAS token: AZURE_STORAGE_SAS_TOKEN is not set and storage.azure.sas_token_file is not configured' \
    "$T/last.err" || fail "no SAS: $(cat "$T/last.err")"
pass "SAS token file: refused when others may read it, preferred to the environment; none at all: one line"

# --- aofroll-collector --check names the token's source, never the token ---------
PORT=$(free_port)
start_redis "$T/redis" "$PORT"
cat >"$T/c.yaml" <<YAML
storage:
  url: azure://$AZ_ACCOUNT/arch/check
  azure:
    endpoint: $AZ_ENDPOINT
    sas_token_file: $SASFILE
index: $T/index.db
instances:
  - name: c
    redis: redis://127.0.0.1:$PORT
YAML
expect_exit 0 "$BIN/aofroll-collector" -c "$T/c.yaml" --check
grep -qx "storage \"azure://$AZ_ACCOUNT/arch/check\": ok (write, read back, delete)" "$T/last.out" ||
    fail "--check storage line: $(cat "$T/last.out")"
grep -q "^storage credentials: SAS token from SAS token file \"$SASFILE\" (permissions \"racwdl\", expires 20" "$T/last.out" ||
    fail "--check credentials line: $(cat "$T/last.out")"
secret_shown "$SAS" && fail "--check shows the SAS signature"
pass "--check: azure storage usable, the SAS token's source and expiry named"

done_testing
