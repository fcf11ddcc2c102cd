#!/usr/bin/env bash
# make-seeds.sh - (re)build the seed corpora in tests/fuzz/corpus/ from
# real output: Redis 7's AOF files and manifests (redis-server, timestamps
# on, MULTI/EXEC, EVAL, several dbs, an RDB-preamble base and a plain AOF
# base, a quoted appendfilename, history files), the objects, index rows
# and aofroll-restore.json of a real archive and restore (aofroll), S3
# answers from moto_server, and the configuration examples of README.md
# and docs/. Seeds stay small (a few KB); the generated ones are named
# seed-*, and files named regress-* (reproducers of past findings) are
# never touched.
#
# Usage: tests/fuzz/make-seeds.sh [DIR]  (DIR: default tests/fuzz/corpus;
#                                        AOFROLL_BIN: the built programs,
#                                        default build-sanitize/bin)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export AOFROLL_BIN=${AOFROLL_BIN:-$SRC/build-sanitize/bin}
export AOFROLL_TEST_TMP=${AOFROLL_TEST_TMP:-/tmp}
. "$SRC/tests/lib/scenario.sh" collector services
C=${1:-$SRC/tests/fuzz/corpus}

[ -x "$BIN/aofroll" ] || fail "no aofroll in $BIN: build first (or set AOFROLL_BIN)"
for t in aofscan manifest config time units objname s3_list position s3_cred codec jsonfield azure; do
    mkdir -p "$C/$t"
    rm -f "$C/$t"/seed-*
done

# seed TARGET NAME: stdin into the corpus, at most 4 KiB
seed() {
    head -c 4096 >"$C/$1/seed-$2"
}

# ---- Redis 7.0 AOF: RDB-preamble base, timestamps, MULTI/EXEC, EVAL, dbs
P=$(free_port)
start_redis "$T/a" "$P" --aof-use-rdb-preamble yes
rcli "$P" set greeting hello >/dev/null
rcli "$P" hset h f1 v1 f2 "v 2" >/dev/null
sleep 1.1
rcli "$P" -n 3 set "key with spaces" $'line1\r\nline2' >/dev/null
rcli "$P" -n 15 incrby counter 42 >/dev/null
rcli "$P" expire greeting 3600 >/dev/null # logged as PEXPIREAT
rcli "$P" setex session 60 token >/dev/null # logged as SET ... PXAT
sleep 1.1
printf 'MULTI\nSET a 1\nINCR a\nLPUSH l x y z\nEXEC\n' | rcli "$P" >/dev/null
rcli "$P" eval "redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', 'n')" 1 k v >/dev/null
rcli "$P" eval "return redis.call('set', KEYS[1], ARGV[1])" 1 single one >/dev/null
sleep 1.1
rcli "$P" -n 3 del "key with spaces" >/dev/null
rcli "$P" set big "$(head -c 300 /dev/zero | tr '\0' x)" >/dev/null
INCR=$T/a/appendonlydir/appendonly.aof.1.incr.aof
seed aofscan incr-ts-multi-eval-dbs <"$INCR"
head -c "$(grep -abo 'MULTI' "$INCR" | head -1 | cut -d: -f1)" "$INCR" | head -c -1 | seed aofscan incr-cut-before-multi
head -c "$(($(grep -abo 'LPUSH' "$INCR" | head -1 | cut -d: -f1) + 3))" "$INCR" | seed aofscan incr-cut-inside-multi
seed manifest first <"$T/a/appendonlydir/appendonly.aof.manifest"
write_config "$T/aofroll.yaml" "$T/archive" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$P" \
    "    chunk_size: 4KiB"
"$BIN/aofroll-collector" -c "$T/aofroll.yaml" --once >"$T/collector.log" 2>&1 || fail "collector: $(tail -3 "$T/collector.log")"
rcli "$P" bgrewriteaof >/dev/null
wait_until 20 bash -c "redis-cli -p $P info persistence | grep -q 'aof_rewrite_in_progress:0'" ||
    fail "rewrite did not finish"
sleep 0.5
seed manifest after-rewrite <"$T/a/appendonlydir/appendonly.aof.manifest"
head -c 512 "$T/a/appendonlydir/appendonly.aof.2.base.rdb" | seed aofscan base-rdb-preamble-head
rcli "$P" set after rewrite >/dev/null
seed aofscan incr-after-rewrite <"$T/a/appendonlydir/appendonly.aof.2.incr.aof"

# ---- plain AOF base, a quoted appendfilename, history files kept
Q=$(free_port)
start_redis "$T/b" "$Q" --aof-use-rdb-preamble no --appendfilename 'my aof"x' --aof-disable-auto-gc yes
rcli "$Q" mset a 1 b 2 >/dev/null
rcli "$Q" -n 2 rpush list one two three >/dev/null
rcli "$Q" bgrewriteaof >/dev/null
wait_until 20 bash -c "redis-cli -p $Q info persistence | grep -q 'aof_rewrite_in_progress:0'" ||
    fail "rewrite did not finish"
sleep 0.5
rcli "$Q" set c 3 >/dev/null
for f in "$T/b/appendonlydir/"*.manifest; do seed manifest quoted-history <"$f"; done
for f in "$T/b/appendonlydir/"*.base.aof; do seed aofscan base-plain-aof <"$f"; done

# ---- a real archive: object names, chunks with their index rows, a restore
"$BIN/aofroll-collector" -c "$T/aofroll.yaml" --once >>"$T/collector.log" 2>&1 || fail "collector: $(tail -3 "$T/collector.log")"
(cd "$T/archive" && find . -name '*.gz' | sed 's|^\./||' | sort) >"$T/keys"
head -6 "$T/keys" | while read -r k; do printf '%s' "$k" | seed objname "$(basename "$k" .gz)"; done
# chunk seeds: expected length and CRC32 (from the index), no flags, the member
sqlite3 "$T/index.db" "select key, \"end\" - start, crc32 from chunks order by kind, start limit 4" 2>/dev/null |
    while IFS='|' read -r key len crc; do
        python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IIB", int(sys.argv[1]), int(sys.argv[2]), 0))' \
            "$len" "$crc" >"$T/chunk"
        cat "$T/archive/$key" >>"$T/chunk"
        seed codec "$(basename "$key" .gz)" <"$T/chunk"
    done
R=$(free_port)
"$BIN/aofroll" restore -c "$T/aofroll.yaml" --instance live --to "@$(date +%s)" --out "$T/r" --start --port "$R" \
    >"$T/restore.log" 2>&1 || fail "restore: $(tail -3 "$T/restore.log")"
PIDS_TO_KILL+=("$(cat "$T/r/redis.pid")")
seed position restored-started <"$T/r/aofroll-restore.json"
"$BIN/aofroll" restore -c "$T/aofroll.yaml" --instance live --to "@$(date +%s)" --out "$T/r2" >/dev/null 2>&1 ||
    fail "second restore failed"
seed position restored <"$T/r2/aofroll-restore.json"
sed "s|$T|/var/lib/aofroll|g" "$T/aofroll.yaml" | seed config test-config

# ---- configuration examples from the documentation
n=0
for doc in "$SRC/README.md" "$SRC"/docs/*.md; do
    awk '/^```yaml/{on=1; next} /^```/{if (on) {print "---8<---"}; on=0} on' "$doc" >"$T/blocks"
    csplit -s -z -f "$T/block." "$T/blocks" '/^---8<---$/' '{*}' 2>/dev/null || continue
    for b in "$T"/block.*; do
        [ -e "$b" ] || continue
        if grep -v '^---8<---$' "$b" >"$T/block"; then # not just the marker
            seed config "doc-$(basename "$doc" .md)-$n" <"$T/block"
            n=$((n + 1))
        fi
        rm -f "$b"
    done
done

# ---- S3 answers from moto_server: listings (one truncated), an error, a batch delete
if command -v moto_server >/dev/null 2>&1; then
    start_moto
    while read -r k; do
        curl -sf -T "$T/archive/$k" "$MOTO/$BUCKET/$k" >/dev/null
    done <"$T/keys"
    printf x | curl -sf -T - "$MOTO/$BUCKET/odd/a%26b%3Cc%3E%27%22%20" >/dev/null
    curl -sf "$MOTO/$BUCKET?list-type=2" | seed s3_list list
    curl -sf "$MOTO/$BUCKET?list-type=2&max-keys=2" | seed s3_list list-truncated
    curl -sf "$MOTO/$BUCKET?list-type=2&prefix=odd" | seed s3_list list-escaped
    curl -sf "$MOTO/$BUCKET?list-type=2&prefix=nothing" | seed s3_list list-empty
    curl -s "$MOTO/$BUCKET/no-such-key" | seed s3_list error-nosuchkey
    curl -s "$MOTO/no-such-bucket?list-type=2" | seed s3_list error-nosuchbucket
    printf '<Delete><Object><Key>%s</Key></Object><Object><Key>odd/a&amp;b</Key></Object></Delete>' \
        "$(head -1 "$T/keys")" >"$T/delete.xml"
    curl -s -X POST -H "Content-MD5: $(openssl md5 -binary "$T/delete.xml" | base64)" \
        --data-binary "@$T/delete.xml" "$MOTO/$BUCKET?delete" | seed s3_list delete-result
else
    echo "make-seeds: moto_server not installed: no S3 seeds" >&2
fi

# ---- Azure Blob storage from Azurite: List Blobs pages (one with a marker), SAS tokens
if have_azurite; then
    start_azurite
    az_create_container arch
    SAS=$(az_container_sas arch racwdl)
    printf '%s' "$SAS" | seed azure sas-container
    printf '?%s\n' "$(az_account_sas rl)" | seed azure sas-account
    while read -r k; do
        curl -sf -X PUT -H "x-ms-version: $AZ_VERSION" -H 'x-ms-blob-type: BlockBlob' \
            --data-binary "@$T/archive/$k" "$AZ_ENDPOINT/arch/$k?$SAS" >/dev/null
    done <"$T/keys"
    printf x | curl -sf -X PUT -H "x-ms-version: $AZ_VERSION" -H 'x-ms-blob-type: BlockBlob' \
        --data-binary @- "$AZ_ENDPOINT/arch/odd/a%26b%3Cc%3E%27%22%20?$SAS" >/dev/null
    curl -sf -H "x-ms-version: $AZ_VERSION" "$AZ_ENDPOINT/arch?restype=container&comp=list&$SAS" | seed azure list
    curl -sf -H "x-ms-version: $AZ_VERSION" "$AZ_ENDPOINT/arch?restype=container&comp=list&maxresults=2&$SAS" |
        seed azure list-marker
    curl -sf -H "x-ms-version: $AZ_VERSION" "$AZ_ENDPOINT/arch?restype=container&comp=list&prefix=odd&$SAS" |
        seed azure list-escaped
else
    echo "make-seeds: $AZURITE_WHY: no Azure seeds" >&2
fi

# ---- credential answers: what a container endpoint and EC2 instance
# metadata answer (the AWS documented format)
printf '{\n  "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",\n  "Expiration": "2026-12-07T18:00:00Z",\n  "RoleArn": "arn:aws:iam::123456789012:role/aofroll",\n  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",\n  "Token": "IQoJb3JpZ2luX2VjEXAMPLE\\/TOKEN=="\n}\n' |
    seed jsonfield container-credentials
printf '{\n  "Code" : "Success",\n  "LastUpdated" : "2026-12-07T12:00:00Z",\n  "Type" : "AWS-HMAC",\n  "AccessKeyId" : "ASIAEXAMPLE",\n  "SecretAccessKey" : "secret\\u00e9\\ud83d\\ude00",\n  "Token" : "token",\n  "Expiration" : "2026-12-07T18:00:00Z"\n}' |
    seed jsonfield instance-metadata

# ---- what people type: TIME, sizes and durations (as in the docs)
for s in 2026-11-20T15:12:01Z 2026-11-20T15:12:01+01:00 '2026-11-20 15:12:01' 2026-11-20T15:12:01.250-03:30 \
    @1763651521 2026-10-25T02:30:00 2016-12-31T23:59:60Z 0999-12-31T00:00:00Z @-1; do
    printf '%s' "$s" | seed time "$(printf '%s' "$s" | tr -c 'A-Za-z0-9' _)"
done
for s in 65536 64KiB 4MiB 1GiB 10MB 100ms 1s 5m 2h 7d 32MiB/s 0 00:00 23:59 9223372036854775807; do
    printf '%s' "$s" | seed units "$(printf '%s' "$s" | tr -c 'A-Za-z0-9' _)"
done

# ---- credentials files in the AWS format
printf '[default]\naws_access_key_id = AKIAEXAMPLE0000000000\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' |
    seed s3_cred default
printf '# comment\n; other comment\n[profile fuzz]\naws_access_key_id=AKIAFUZZ\naws_secret_access_key=s3cr3t/with=equals\naws_session_token = tok\n\n[default]\nregion = eu-west-1\n' |
    seed s3_cred profiles

echo "seeds written to $C: $(find "$C" -name 'seed-*' | wc -l) files, $(du -sh "$C" | cut -f1)"
