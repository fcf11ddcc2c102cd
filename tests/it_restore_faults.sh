#!/usr/bin/env bash
# it_restore_faults.sh - aofroll restore when the storage fails midway.
#
# A real redis-server takes one batch of writes a second while two
# collectors archive it: one to file://, one to s3:// on moto_server
# through tests/s3_faultproxy.py. Then restores, each expected to leave
# either a complete DIR or no trace of itself (no appendonlydir, no
# manifest, no position file, no scratch directory):
#   file://  - a chunk object deleted from the storage (the index still
#              lists it), a chunk that cannot be read (a symbolic link
#              loop in its place) and a missing base chunk: exit 1, one
#              line naming the object; a DIR that the restore created is
#              gone, an empty one stays empty, and a complete earlier
#              restore replaced with --force stays as it was;
#   s3://    - a chunk in the middle of the incr stream answers 503 twice,
#              then works: the restore retries and equals the live server;
#              then every chunk from there on answering 503 for good, or
#              that chunk dropping the connection every time: exit 1 after
#              5 attempts (the proxy counts them), one line naming the
#              first object that failed, no DIR;
#   delete   - a batch delete that S3 refuses: exit 1 saying that nothing
#              was deleted (not "partly"), every object still there.
# Without moto_server the s3:// half is skipped (exit 77) after the file://
# half has passed.
. "$(dirname "$0")/lib/scenario.sh" collector restore services

PORT=$(free_port)
start_redis "$T/live" "$PORT"
mkdir -p "$T/f" "$T/s"
# separate index directories: each collector takes its lock beside its index
FCFG=$T/f/aofroll.yaml
write_config "$FCFG" "$T/f/store" "$T/f/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 16KiB"
COLLECTORS=("$FCFG")
HAVE_MOTO=0
if have_moto; then
    HAVE_MOTO=1
    start_moto
    start_proxy
    SCFG=$T/s/aofroll.yaml
    s3_config "$SCFG" "$T/s/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 16KiB"
    COLLECTORS+=("$SCFG")
fi

CPIDS=()
for cfg in "${COLLECTORS[@]}"; do
    "$BIN/aofroll-collector" -c "$cfg" >>"$cfg.log" 2>&1 &
    CPIDS+=($!)
    PIDS_TO_KILL+=($!)
done
sleep 1
run_seconds "$PORT" 1 4
sleep 0.5
for i in "${!CPIDS[@]}"; do
    kill -TERM "${CPIDS[$i]}"
    wait "${CPIDS[$i]}" || fail "collector ${COLLECTORS[$i]} exited $? on SIGTERM: $(tail -3 "${COLLECTORS[$i]}.log")"
    "$BIN/aofroll-collector" -c "${COLLECTORS[$i]}" --once >>"${COLLECTORS[$i]}.log" 2>&1 ||
        fail "aofroll-collector --once: $(tail -3 "${COLLECTORS[$i]}.log")"
done
TO=@${SEC[4]}

# chunk_key INDEX KIND N: the key of the Nth chunk of that kind (from 0)
chunk_key() {
    sqlite3 "$1" "select key from chunks where kind = '$2' order by generation, start limit 1 offset $3"
}
NINCR=$(sqlite3 "$T/f/index.db" "select count(*) from chunks where kind = 'incr'")
[ "$NINCR" -ge 8 ] || fail "expected at least 8 incr chunks, got $NINCR"

# no_trace DIR: a failed restore that created DIR left nothing
no_trace() {
    [ ! -e "$1" ] || fail "a failed restore left $1 behind: $(find "$1" | head -5)"
}
# one_line_naming KEY: the failed command said one line on stderr, naming KEY
one_line_naming() {
    assert_eq "$(wc -l <"$T/last.err")" 1 "stderr lines ($(cat "$T/last.err"))"
    expect_err "$1"
}

# --- file:// -----------------------------------------------------------------
"$A" restore -c "$FCFG" --instance live --to "$TO" --out "$T/f/good" >"$T/f/good.out" 2>&1 ||
    fail "restore from file:// failed: $(cat "$T/f/good.out")"
pass "file:// archive restores ($NINCR incr chunks)"

STORE=$T/f/store
KEY=$(chunk_key "$T/f/index.db" incr $((NINCR / 2)))
mv "$STORE/$KEY" "$T/f/saved.gz"
expect_exit 1 "$A" restore -c "$FCFG" --instance live --to "$TO" --out "$T/f/missing"
one_line_naming "aofroll restore: object \"$KEY\" not found in \"file://$STORE\""
no_trace "$T/f/missing"
pass "a chunk missing from the storage: exit 1, $(cut -c1-100 "$T/last.err")..., no DIR"

mkdir "$T/f/empty"
expect_exit 1 "$A" restore -c "$FCFG" --instance live --to "$TO" --out "$T/f/empty"
one_line_naming "\"$KEY\""
[ -d "$T/f/empty" ] && [ -z "$(ls -A "$T/f/empty")" ] || fail "the empty DIR did not stay empty: $(ls -A "$T/f/empty")"
pass "into an empty DIR: it stays empty"

(cd "$T/f/good" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/f/good.sums"
expect_exit 1 "$A" restore -c "$FCFG" --instance live --to "@${SEC[2]}" --out "$T/f/good" --force
one_line_naming "\"$KEY\""
diff "$T/f/good.sums" <(cd "$T/f/good" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >/dev/null ||
    fail "a failed restore --force changed the earlier restore in $T/f/good"
[ ! -e "$T/f/good/.aofroll-restore-tmp" ] || fail "scratch directory left in $T/f/good"
pass "with --force over an earlier restore: that restore stays whole and unchanged"

# unreadable: a symbolic link to itself (permissions do not stop root)
ln -s "$(basename "$KEY")" "$STORE/$KEY"
expect_exit 1 "$A" restore -c "$FCFG" --instance live --to "$TO" --out "$T/f/unreadable"
one_line_naming "aofroll restore: cannot open \"$STORE/$KEY\": Too many levels of symbolic links"
no_trace "$T/f/unreadable"
pass "an unreadable chunk (I/O error): exit 1, one line naming it, no DIR"
rm "$STORE/$KEY"
mv "$T/f/saved.gz" "$STORE/$KEY"

BKEY=$(chunk_key "$T/f/index.db" base 0)
mv "$STORE/$BKEY" "$T/f/saved.gz"
expect_exit 1 "$A" restore -c "$FCFG" --instance live --to "$TO" --out "$T/f/nobase"
one_line_naming "aofroll restore: object \"$BKEY\" not found in \"file://$STORE\""
no_trace "$T/f/nobase"
mv "$T/f/saved.gz" "$STORE/$BKEY"
pass "a base chunk missing: exit 1 naming it, no DIR"

if [ "$HAVE_MOTO" = 0 ]; then
    echo "skipped: moto_server not found (the s3:// half; the file:// half passed)"
    exit 77
fi

# --- s3:// ---------------------------------------------------------------------
[ "$(stat_of rejected)" = 0 ] || fail "the proxy rejected $(stat_of rejected) requests: $(tail -5 "$T/proxy.log")"
SINCR=$(sqlite3 "$T/s/index.db" "select count(*) from chunks where kind = 'incr'")
[ "$SINCR" -ge 8 ] || fail "expected at least 8 incr chunks in s3, got $SINCR"
SKEY=$(chunk_key "$T/s/index.db" incr $((SINCR / 2)))
SPATH=/$BUCKET/arch/$SKEY
WHAT="s3 GET \"s3://$BUCKET/arch/$SKEY\""

# transient: two 503s on that chunk, then it answers
proxy_post reset
proxy_post faults "{\"mode\": \"status\", \"status\": 503, \"count\": 2, \"method\": \"GET\", \"path\": \"$SPATH\"}"
restore_started "$T/s/retried" -c "$SCFG" --instance live --to "$TO"
assert_eq "$(digest "$RPORT")" "${DIG[4]}" "digest after a restore that met two 503s"
assert_eq "$(stat_of faults_left)" 0 "injected faults left"
assert_eq "$(stat_of "methods['GET']")" $(($(sqlite3 "$T/s/index.db" "select count(*) from chunks") + 2)) \
    "GETs: one per chunk plus the two retries"
pass "two 503s on a chunk midway: retried, and the restore equals the live server"

# for good: from that chunk on, every object answers 503 to every attempt
proxy_post reset
NFAIL=0
for key in $(sqlite3 "$T/s/index.db" "select key from chunks where kind = 'incr' order by start limit -1 offset $((SINCR / 2))"); do
    proxy_post faults "{\"mode\": \"status\", \"status\": 503, \"count\": 100, \"method\": \"GET\", \"path\": \"/$BUCKET/arch/$key\"}"
    NFAIL=$((NFAIL + 1))
done
expect_exit 1 "$A" restore -c "$SCFG" --instance live --to "$TO" --out "$T/s/failed503"
one_line_naming "aofroll restore: $WHAT: HTTP 503 SlowDown: injected by s3_faultproxy (5 attempts)"
tried=$((NFAIL * 100 - $(stat_of faults_left)))
[ "$tried" -ge 5 ] || fail "only $tried requests met the injected 503s"
no_trace "$T/s/failed503"
pass "503 for good from the middle of the stream: $tried attempts on $NFAIL chunks, exit 1, one line naming the first, no DIR"

# dropped connections: no answer at all, every time
proxy_post reset
proxy_post faults "{\"mode\": \"drop\", \"count\": 100, \"method\": \"GET\", \"path\": \"$SPATH\"}"
expect_exit 1 "$A" restore -c "$SCFG" --instance live --to "$TO" --out "$T/s/dropped"
one_line_naming "aofroll restore: $WHAT: "
expect_err "(5 attempts)"
# (curl itself retries once a kept-alive connection that closed without a
# word, so the proxy may see one request more than the 5 attempts)
tried=$((100 - $(stat_of faults_left)))
[ "$tried" -ge 5 ] && [ "$tried" -le 6 ] || fail "$tried requests for the chunk reached the proxy, expected 5 attempts"
no_trace "$T/s/dropped"
pass "connections dropped midway: 5 attempts, exit 1, $(cut -c1-60 "$T/last.err")...$(grep -o ': [^"]*$' "$T/last.err"), no DIR"

# a batch delete that fails: nothing was deleted, and delete says so
proxy_post reset
proxy_post faults '{"mode": "status", "status": 500, "count": 100, "method": "POST"}'
expect_exit 1 "$A" delete -c "$SCFG" --instance live --generation 1 --force
one_line_naming "aofroll delete: nothing of generation 1 of \"live\" was deleted; run delete again: "
grep -q "partly" "$T/last.err" && fail "delete said partly deleted: $(cat "$T/last.err")"
proxy_post reset
expect_exit 0 "$A" verify -c "$SCFG" --instance live --quick
pass "a batch delete that S3 refuses: exit 1, \"nothing ... was deleted\", every object still there"

assert_eq "$(stat_of rejected)" 0 "requests whose signature the proxy rejected"
done_testing
