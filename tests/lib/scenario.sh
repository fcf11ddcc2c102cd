# scenario.sh - what an integration scenario (tests/it_*.sh) sources first:
#   . "$(dirname "$0")/lib/scenario.sh" [MODULE...]
# Sourced, not run. Gives the scenario the basics (base.sh: a private temp
# dir $T, PIDs killed at exit, fail/pass, free_port, wait_until, the
# assertions), the server under test (redis.sh), the storage under test
# (storage.sh), then each MODULE named: collector, restore, json,
# services, exact (tests/lib/MODULE.sh; see each file's header).
#
# $A is aofroll, $BIN the directory of the built programs.
#
# Environment (set by ctest): AOFROLL_BIN (built programs),
# AOFROLL_TEST_TMP (where $T is made), AOFROLL_SRC (the source tree),
# AOFROLL_TEST_STORAGE ("file" or "azure", storage.sh) and
# AOFROLL_REDIS_SERVER (the server under test, redis.sh).

HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HARNESS_LIB/base.sh"
. "$HARNESS_LIB/redis.sh"
. "$HARNESS_LIB/storage.sh"
. "$HARNESS_LIB/json.sh"

# The s3 credential chain never reaches past loopback from a test: no EC2
# instance metadata (169.254.169.254), no container endpoint, no web
# identity and no ~/.aws/credentials of whoever runs the tests, unless a
# scenario sets them up itself (it_s3_creds.sh).
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aofroll-tests/credentials
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_ROLE_ARN AWS_EC2_METADATA_SERVICE_ENDPOINT

SRC=${AOFROLL_SRC:-$(cd "$HARNESS_LIB/../.." && pwd)}
BIN=${AOFROLL_BIN:-$SRC/build/bin}
A=$BIN/aofroll
harness_tmp "${AOFROLL_TEST_TMP:-/tmp}" "$(basename "$0" .sh)"
T=$HARNESS_TMP

# the server under test and its tools first on PATH
server_use "$T/bin" || fail "no server to test"
[ -z "${AOFROLL_REDIS_SERVER:-}" ] || echo "# server: $(redis-server --version)"

storage_under_test

for harness_module in "$@"; do
    [ -f "$HARNESS_LIB/$harness_module.sh" ] || fail "no harness module $harness_module in $HARNESS_LIB"
    . "$HARNESS_LIB/$harness_module.sh"
done
unset harness_module
