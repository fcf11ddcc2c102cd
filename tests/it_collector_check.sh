#!/bin/bash
# it_collector_check.sh - --check verdicts and exit codes; the ACL line.
#
# --check reaches each Redis and the storage, names the server (Redis or
# Valkey, its version, whether the project tests it) and judges the settings:
# warnings (no #TS annotations, automatic rewrites, a plain http:// s3
# endpoint off the box) keep exit 0 and are counted in the verdict line,
# problems (AOF off, Redis down, storage unusable, bad password, a lock
# that cannot be taken) give exit 1: no line names a problem under a
# "usable" verdict. The least-privilege ACL user of docs/collector.md is
# enough for --check, --once and --barrier-now, and its password never
# reaches the output.
. "$(dirname "$0")/lib/scenario.sh" collector

PORT=$(free_port)
DOWN=$(free_port)
R=$T/redis
ARCH=$T/archive
start_redis "$R" "$PORT"
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: c" "    redis: redis://127.0.0.1:$PORT"

expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --check
for line in 'instance "c" (redis://127.0.0.1:'"$PORT"')' '  redis: reachable' '  appendonly yes: ok' \
    '  aof-timestamp-enabled yes: ok, restores are exact to the second' \
    '  auto-aof-rewrite-percentage 0: ok, only the barrier rewrites' '  lock: free' 'verdict: usable'; do
    grep -qxF "$line" "$T/last.out" || fail "--check lacks the line '$line': $(cat "$T/last.out")"
done
grep -q "^  aof files: ok, \"$R/appendonlydir\": base \"appendonly.aof.1.base.rdb\"" "$T/last.out" ||
    fail "--check did not open the AOF files"
grep -q "^storage \"file://$ARCH\": ok (write, read back, delete)$" "$T/last.out" || fail "storage not checked"
[ -z "$(find "$ARCH" -type f -name '*probe*')" ] || fail "the probe object was left behind"
grep -q "^  settings: poll_interval 100ms, chunk_size 64KiB, chunk_pause 0, max_rate 32MiB/s, compression 1, barrier \"00:00\"$" \
    "$T/last.out" || fail "settings line: $(grep settings "$T/last.out")"
# the server and its place in the tested matrix (every server the suite runs on is in it)
info() { rcli "$PORT" info server | tr -d '\r' | sed -n "s/^$1://p"; }
if [ "$(info server_name)" = valkey ]; then who="Valkey $(info valkey_version)"; else who="Redis $(info redis_version)"; fi
case $who in "Redis 7.9."*) who="$who (an 8.0 milestone)" ;; esac
grep -qxF "  server: $who, in the tested matrix" "$T/last.out" || fail "no server line for $who: $(grep server: "$T/last.out")"
pass "a good setup: exit 0, every verdict ok, the server named"

rcli "$PORT" config set aof-timestamp-enabled no >/dev/null
rcli "$PORT" config set auto-aof-rewrite-percentage 100 >/dev/null
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --check
grep -qxF "  aof-timestamp-enabled no: restores will be exact to the poll interval only; set it to yes" "$T/last.out" ||
    fail "no timestamp warning: $(cat "$T/last.out")"
grep -qxF "  auto-aof-rewrite-percentage 100: Redis will also rewrite on its own, opening generations at unplanned times; set it to 0" \
    "$T/last.out" || fail "no rewrite-percentage warning"
grep -qx "verdict: usable (2 warnings)" "$T/last.out" || fail "warnings made the setup unusable: $(tail -1 "$T/last.out")"
pass "warnings (no #TS, automatic rewrites) keep exit 0"

rcli "$PORT" config set appendonly no >/dev/null
expect_exit 1 "$COLLECTOR" -c "$T/c.yaml" --check
grep -qxF "  appendonly no: there is no AOF to follow; set it to yes (or use mode: rdb)" "$T/last.out" ||
    fail "no appendonly verdict"
grep -qx "verdict: not usable (1 problem, 2 warnings)" "$T/last.out" || fail "appendonly no judged usable: $(tail -1 "$T/last.out")"
rcli "$PORT" config set appendonly yes >/dev/null
rcli "$PORT" config set aof-timestamp-enabled yes >/dev/null
rcli "$PORT" config set auto-aof-rewrite-percentage 0 >/dev/null
wait_until 20 bash -c "redis-cli -p $PORT info persistence | grep -q aof_rewrite_in_progress:0" || fail "rewrite hangs"
pass "appendonly no: exit 1"

collector_config "$T/down.yaml" "$ARCH" "$T/index.db" "  - name: d" "    redis: redis://127.0.0.1:$DOWN"
expect_exit 1 "$COLLECTOR" -c "$T/down.yaml" --check
grep -q "^  redis: cannot connect to redis \"redis://127.0.0.1:$DOWN\": Connection refused" "$T/last.out" ||
    fail "redis down not reported: $(cat "$T/last.out")"
pass "redis down: exit 1"

touch "$T/not-a-dir"
collector_config "$T/badstore.yaml" "$T/not-a-dir/archive" "$T/index.db" "  - name: c" "    redis: redis://127.0.0.1:$PORT"
expect_exit 1 "$COLLECTOR" -c "$T/badstore.yaml" --check
grep -q "^storage: .*not-a-dir" "$T/last.out" || fail "storage failure not reported: $(cat "$T/last.out")"
grep -qx "verdict: not usable (1 problem, 0 warnings)" "$T/last.out" || fail "unusable storage judged usable"
pass "storage that cannot be written: exit 1"

# a lock the collector could not take: --check says so and is not usable,
# and the collector indeed fails on it
collector_config "$T/nolock.yaml" "$ARCH" "$T/index.db" "  - name: c" "    redis: redis://127.0.0.1:$PORT"
sed -i "s|^index: .*|&\nlock_dir: $T/no/such/dir|" "$T/nolock.yaml"
expect_exit 1 "$COLLECTOR" -c "$T/nolock.yaml" --check
grep -q "^  lock: cannot open lock \"$T/no/such/dir/c.lock\": No such file or directory" "$T/last.out" ||
    fail "lock failure not reported: $(cat "$T/last.out")"
grep -qx "verdict: not usable (1 problem, 0 warnings)" "$T/last.out" || fail "a lock failure judged usable: $(tail -1 "$T/last.out")"
expect_exit 1 "$COLLECTOR" -c "$T/nolock.yaml" --once
expect_err "cannot open lock"
pass "a lock that cannot be taken: --check exit 1, as the collector fails on it"

# s3_check_config FILE STORAGE-LINES...: a config of instance "c" (the
# server on $PORT) storing where STORAGE-LINES say
s3_check_config() {
    local file=$1
    shift
    {
        echo "storage:"
        printf '%s\n' "$@"
        echo "index: $T/index.db"
        echo "instances:"
        echo "  - name: c"
        echo "    redis: redis://127.0.0.1:$PORT"
    } >"$file"
}

# a plain http:// s3 endpoint that is not loopback: a warning in --check and
# at the collector's start (connection refused at once on a local address)
EXT=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' || true)
if [ -n "$EXT" ]; then
    s3_check_config "$T/http.yaml" "  url: s3://aofroll-test/arch" \
        '  s3: { endpoint: "http://'"$EXT"':1", region: us-east-1, path_style: true }'
    AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$COLLECTOR" -c "$T/http.yaml" --check
    grep -qxF "storage: storage.s3.endpoint \"http://$EXT:1\" is plain http: chunks and the index copy cross the network unencrypted and what comes back is not authenticated (requests are still signed). HINT: use https://" \
        "$T/last.out" || fail "no plain http warning: $(cat "$T/last.out")"
    grep -qx "verdict: not usable (1 problem, 1 warning)" "$T/last.out" || fail "verdict: $(tail -1 "$T/last.out")"
    AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$COLLECTOR" -c "$T/http.yaml" --once
    grep -q " WARN .*storage.s3.endpoint \"http://$EXT:1\" is plain http" "$T/last.err" ||
        fail "no warning at start: $(cat "$T/last.err")"
    sed -i "s|http://$EXT:1|http://127.0.0.1:1|" "$T/http.yaml"
    AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$COLLECTOR" -c "$T/http.yaml" --check
    grep -q "plain http" "$T/last.out" && fail "loopback http warned about: $(cat "$T/last.out")"
    pass "a plain http:// s3 endpoint off the box: a warning in --check and at start; loopback: none"
else
    echo "skipped the plain http endpoint case: no non-loopback IPv4 address"
fi

# --- the least-privilege ACL user from docs/collector.md
acl=$(sed -n 's/^ACL SETUSER aofroll /ACL SETUSER aofroll /p' "$AOFROLL_SRC/docs/collector.md" | head -1)
[ -n "$acl" ] || fail "docs/collector.md has no ACL SETUSER line"
# shellcheck disable=SC2086
rcli "$PORT" ${acl/<password>/s3cret-pw} >/dev/null || fail "redis refused the documented ACL line"
collector_config "$T/acl.yaml" "$ARCH" "$T/index.db" "  - name: c" "    redis: redis://aofroll:s3cret-pw@127.0.0.1:$PORT"
expect_exit 0 "$COLLECTOR" -c "$T/acl.yaml" --check
grep -qx "verdict: usable" "$T/last.out" || fail "the ACL user cannot --check: $(cat "$T/last.out")"
expect_exit 0 "$COLLECTOR" -c "$T/acl.yaml" --barrier-now
grep -q "generation 2 opened" "$T/last.err" || fail "the ACL user cannot run the barrier: $(cat "$T/last.err")"
grep -rq "s3cret-pw" "$T/last.out" "$T/last.err" && fail "the password appeared in the output"
rcli "$PORT" acl setuser aofroll -bgrewriteaof >/dev/null
expect_exit 1 "$COLLECTOR" -c "$T/acl.yaml" --barrier-now
grep -q "refused BGREWRITEAOF: NOPERM" "$T/last.err" || fail "a missing permission was not named: $(cat "$T/last.err")"
pass "the documented ACL user suffices for --check and --barrier-now; a missing permission is named"

collector_config "$T/badpw.yaml" "$ARCH" "$T/index.db" "  - name: c" "    redis: redis://aofroll:wrong-pw@127.0.0.1:$PORT"
expect_exit 1 "$COLLECTOR" -c "$T/badpw.yaml" --check
grep -q "^  redis: authentication failed: .*WRONGPASS" "$T/last.out" || fail "bad password not reported: $(cat "$T/last.out")"
grep -q "wrong-pw" "$T/last.out" && fail "the password appeared in the output"
grep -q "redis://aofroll:\*\*\*@127.0.0.1:$PORT" "$T/last.out" || fail "the redacted URL is not shown"
pass "a wrong password: exit 1, the password redacted"

# a secret written into the storage URL is never printed
s3_check_config "$T/secret.yaml" "  url: s3://AKIAEXAMPLEKEY:Top-Secret-42@aofroll-test/arch"
AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$COLLECTOR" -c "$T/secret.yaml" --check
grep -q '^storage: storage url "s3://AKIAEXAMPLEKEY:\*\*\*@aofroll-test/arch": an s3 url has only a bucket and a prefix$' \
    "$T/last.out" || fail "the refused url: $(grep storage "$T/last.out")"
AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$COLLECTOR" -c "$T/secret.yaml" --once
cp "$T/last.err" "$T/secret.collector"
for cmd in ls reindex verify; do
    AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s expect_exit 1 "$BIN/aofroll" "$cmd" -c "$T/secret.yaml"
    grep -q 'storage url "s3://AKIAEXAMPLEKEY:\*\*\*@aofroll-test/arch"' "$T/last.err" ||
        fail "aofroll $cmd: $(cat "$T/last.err")"
    cat "$T/last.err" >>"$T/secret.collector"
done
grep -q "Top-Secret-42" "$T/last.out" "$T/secret.collector" && fail "the secret was printed: $(grep -h Top-Secret "$T/last.out" "$T/secret.collector")"
pass "a secret in the storage url is redacted in --check, the collector's log, ls, reindex and verify"

expect_exit 2 "$COLLECTOR" -c "$T/c.yaml" --check --instance nosuch
grep -qx "aofroll-collector: no instance \"nosuch\" in \"$T/c.yaml\"" "$T/last.err" || fail "unknown instance: $(cat "$T/last.err")"
expect_exit 2 "$COLLECTOR" -c "$T/c.yaml" --snapshot-now
expect_exit 2 "$COLLECTOR" -c "$T/c.yaml" --once --check
expect_exit 2 "$COLLECTOR" --once --no-such-option
# no -c: AOFROLL_CONFIG, else the default (it_config_path.sh); one that cannot be read exits 1
AOFROLL_CONFIG=$T/none.yaml expect_exit 1 "$COLLECTOR" --once
pass "bad usage exits 2"

done_testing
