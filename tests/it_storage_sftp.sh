#!/bin/bash
# it_storage_sftp.sh - the sftp:// backend against an OpenSSH sshd that this
# script starts on loopback (private config, ed25519 keys, internal-sftp).
#
# Runs the shared storage suite (tests/storage_suite.c) twice, trusting the
# server by known_hosts and by a SHA256 pin, then backend cases through
# storage_probe, checked against the files on disk: atomic put and
# overwrite leave no temporary file, crash leftovers are not objects,
# directories are not objects, remove takes emptied directories with it,
# unknown or changed host keys and a wrong client key are refused.
. "$(dirname "$0")/lib/scenario.sh" services

have_sshd || skip "sshd not found"
need_probe storage_suite
ME=$(id -un)

# --- sshd --------------------------------------------------------------------
start_sshd "$T/ssh"
PORT=$SSHD_PORT
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/ssh/stranger" || fail "ssh-keygen stranger key"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$T/ssh/host_key.pub")" >"$T/ssh/known_hosts"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$T/ssh/stranger.pub")" >"$T/ssh/known_hosts_changed"
echo "[127.0.0.1]:$((PORT + 1)) $(cut -d' ' -f1,2 "$T/ssh/host_key.pub")" >"$T/ssh/known_hosts_other"
PIN=$(ssh-keygen -lf "$T/ssh/host_key.pub" | awk '{print $2}')
WRONG_PIN=$(ssh-keygen -lf "$T/ssh/stranger.pub" | awk '{print $2}')
pass "sshd on port $PORT"

ARCHIVE=$T/archive
URL="sftp://$ME@127.0.0.1:$PORT$ARCHIVE"
export AOFROLL_SUITE_SFTP_PRIVATE_KEY=$T/ssh/client
unset AOFROLL_SUITE_SFTP_HOST_KEY_SHA256 AOFROLL_SUITE_SFTP_PUBLIC_KEY

# --- the shared suite --------------------------------------------------------
AOFROLL_SUITE_URL=$URL AOFROLL_SUITE_SFTP_KNOWN_HOSTS=$T/ssh/known_hosts "$BIN/storage_suite" >"$T/suite.out" 2>&1 ||
    fail "storage_suite against sftp (known_hosts): $(grep -E 'ERROR|FAIL|cannot' "$T/suite.out" | head -5)"
assert_eq "$(find "$ARCHIVE" -type f | wc -l)" 0 "files left by the suite"
pass "storage suite on sftp, host checked by known_hosts"
AOFROLL_SUITE_URL=$URL/pinned AOFROLL_SUITE_SFTP_HOST_KEY_SHA256=$PIN "$BIN/storage_suite" >"$T/suite2.out" 2>&1 ||
    fail "storage_suite against sftp (pin): $(grep -E 'ERROR|FAIL|cannot' "$T/suite2.out" | head -5)"
pass "storage suite on sftp, host checked by its SHA256 pin"

# --- backend cases -------------------------------------------------------------
export AOFROLL_SUITE_URL=$URL AOFROLL_SUITE_SFTP_KNOWN_HOSTS=$T/ssh/known_hosts
head -c 3145757 /dev/urandom >"$T/big.bin"
KEY="inst/gen-000001/base/00000000000000000000-00000000000003145757.rdb.gz"
expect_exit 0 "$PROBE" put "$KEY" "$T/big.bin"
cmp -s "$T/big.bin" "$ARCHIVE/$KEY" || fail "the file on the server differs from what was put"
assert_eq "$("$PROBE" head "$KEY")" 3145757 "head size"
printf 'version one, the longer one\n' >"$T/v1"
printf 'v2\n' >"$T/v2"
expect_exit 0 "$PROBE" put inst/index.db "$T/v1"
expect_exit 0 "$PROBE" put inst/index.db "$T/v2"
cmp -s "$T/v2" "$ARCHIVE/inst/index.db" || fail "overwrite did not replace the file"
ODD='inst/odd name "quoted" \back'"'"'s'
expect_exit 0 "$PROBE" put "$ODD" "$T/v1"
cmp -s "$T/v1" "$ARCHIVE/$ODD" || fail "key with spaces and quotes not stored at its path"
assert_eq "$(find "$ARCHIVE" -name '.tmp.*' | wc -l)" 0 "temporary files left after put"
pass "put lands whole at its path; overwrite replaces; no temporary file stays"

# leftovers of a crashed put are not objects; such names are refused as keys
printf 'half' >"$ARCHIVE/inst/.tmp.index.db.999.1"
"$PROBE" list inst/ >"$T/list.out" || fail "list inst/"
assert_eq "$(cut -f1 "$T/list.out" | tr '\n' '|')" "inst/gen-000001/base/00000000000000000000-00000000000003145757.rdb.gz|inst/index.db|$ODD|" \
    "listing"
assert_eq "$(cut -f2 "$T/list.out" | tr '\n' ' ')" "3145757 3 28 " "listed sizes"
expect_exit 1 "$PROBE" put inst/.tmp.x "$T/v1"
grep -q 'invalid storage key "inst/.tmp.x" for ".*": names starting with ".tmp." are reserved for temporary files' \
    "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
pass "temporary files are not listed, and their names are not keys"

# missing objects and directories are ERR_NOTFOUND; remove cleans up
expect_exit 3 "$PROBE" get inst/nope
grep -qF "object \"inst/nope\" not found in \"$URL\"" "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
expect_exit 3 "$PROBE" head inst/gen-000001
expect_exit 3 "$PROBE" get inst/gen-000001
expect_exit 0 "$PROBE" rm inst/never-was
# a directory is not an object: removing it is removing nothing
expect_exit 0 "$PROBE" rm inst/gen-000001
[ -f "$ARCHIVE/$KEY" ] || fail "rm of a directory key removed something"
expect_exit 0 "$PROBE" rm "$KEY"
[ -e "$ARCHIVE/inst/gen-000001" ] && fail "remove left the emptied directories behind"
[ -f "$ARCHIVE/inst/index.db" ] || fail "remove took a directory that still holds files"
expect_exit 0 "$PROBE" put "$KEY" "$T/v2"
cmp -s "$T/v2" "$ARCHIVE/$KEY" || fail "put after remove"
pass "missing objects and directories are not found; remove takes emptied directories with it"

# the user defaults to the login name
AOFROLL_SUITE_URL="sftp://127.0.0.1:$PORT$ARCHIVE" expect_exit 0 "$PROBE" get inst/index.db
pass "no user in the url: the login name"

# --- trust ---------------------------------------------------------------------
AOFROLL_SUITE_SFTP_KNOWN_HOSTS=$T/ssh/known_hosts_other expect_exit 1 "$PROBE" put trust/x "$T/v1"
grep -qF "host \"127.0.0.1:$PORT\" is not in known_hosts \"$T/ssh/known_hosts_other\": refusing to connect" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
AOFROLL_SUITE_SFTP_KNOWN_HOSTS=$T/ssh/known_hosts_changed expect_exit 1 "$PROBE" put trust/x "$T/v1"
grep -qF "the host key of \"127.0.0.1:$PORT\" does not match known_hosts \"$T/ssh/known_hosts_changed\"" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
[ -e "$ARCHIVE/trust" ] && fail "something was written to an untrusted host"
AOFROLL_SUITE_SFTP_KNOWN_HOSTS= AOFROLL_SUITE_SFTP_HOST_KEY_SHA256=${PIN#SHA256:} expect_exit 0 "$PROBE" head inst/index.db
AOFROLL_SUITE_SFTP_KNOWN_HOSTS= AOFROLL_SUITE_SFTP_HOST_KEY_SHA256=$WRONG_PIN expect_exit 1 "$PROBE" head inst/index.db
grep -qF "the host key of \"127.0.0.1:$PORT\" does not match storage.sftp.host_key_sha256" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
AOFROLL_SUITE_SFTP_KNOWN_HOSTS= AOFROLL_SUITE_SFTP_HOST_KEY_SHA256=SHA256:short expect_exit 1 "$PROBE" head inst/index.db
grep -q 'storage.sftp.host_key_sha256 "short" is not a SHA256 fingerprint' "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
AOFROLL_SUITE_SFTP_KNOWN_HOSTS= expect_exit 1 "$PROBE" head inst/index.db
grep -q 'no way to check the server.s host key: HINT: set storage.sftp.known_hosts or storage.sftp.host_key_sha256' \
    "$T/last.err" || fail "unexpected message: $(cat "$T/last.err")"
pass "unknown and changed host keys refused; the SHA256 pin, with or without its SHA256: prefix"

AOFROLL_SUITE_SFTP_PRIVATE_KEY=$T/ssh/stranger expect_exit 1 "$PROBE" head inst/index.db
grep -qF "login as \"$ME@127.0.0.1:$PORT\" refused with key \"$T/ssh/stranger\"" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
AOFROLL_SUITE_SFTP_PRIVATE_KEY=$T/ssh/missing expect_exit 1 "$PROBE" head inst/index.db
grep -qF "cannot read sftp private key \"$T/ssh/missing\": No such file or directory" "$T/last.err" ||
    fail "unexpected message: $(cat "$T/last.err")"
# no public key file beside the private key: libssh2 derives it
cp "$T/ssh/client" "$T/ssh/client_alone"
AOFROLL_SUITE_SFTP_PRIVATE_KEY=$T/ssh/client_alone expect_exit 0 "$PROBE" head inst/index.db
pass "a key the server does not know is refused; the public key may be left out"

done_testing
