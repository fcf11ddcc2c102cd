# services.sh - the storage services a scenario starts on loopback (sourced
# after scenario.sh): moto_server playing S3 and IAM, tests/s3_faultproxy.py
# in front of it (or of Azurite) checking signatures and injecting faults,
# an OpenSSH sshd serving SFTP, and Azurite playing Azure Blob storage.
# Each runs in the scenario's temp dir on a free port, is killed at exit,
# and gets another port when the one it was given is taken meanwhile.
#
# The fault proxy checks every SigV4 signature against the secret exported
# here (or the keys a scenario gives it), counts requests and injects
# faults (HTTP errors, dropped or hung connections; see its header).
# Killing the proxy makes the storage unreachable (connection refused)
# while moto, which holds the objects in memory, keeps them; a proxy
# started again on the same port brings the storage back as it was.
#
# Azurite (the npm package, Microsoft's Azure Storage emulator) is
# installed on first use with npm into a cache outside the checkout
# (AOFROLL_NPM_CACHE, default ~/.cache/aofroll/npm) and started in memory,
# with its telemetry off. SAS tokens are made here the way Azure makes
# them: HMAC-SHA256 (openssl) of the string-to-sign under Azurite's
# well-known development account key.

BUCKET=aofroll-test
export AWS_ACCESS_KEY_ID=AKIAFAULTS0000000000 AWS_SECRET_ACCESS_KEY=faults/secret/0123456789abcdefghijklmn
unset AWS_SESSION_TOKEN AWS_PROFILE

# start_service NAME READY CMD...: run CMD (with @PORT@ replaced by a free
# port), its output appended to $T/NAME.log, until it is ready: READY is a
# URL path that answers an HTTP GET, or "tcp" for a port that accepts a
# connection. A port taken in between gets another try. Sets SERVICE_PORT
# and SERVICE_PID; the service is killed at exit.
start_service() {
    local name=$1 ready=$2 check
    shift 2
    for _ in 1 2 3; do
        SERVICE_PORT=$(free_port)
        "${@//@PORT@/$SERVICE_PORT}" >>"$T/$name.log" 2>&1 &
        SERVICE_PID=$!
        PIDS_TO_KILL+=("$SERVICE_PID")
        if [ "$ready" = tcp ]; then
            check="exec 3<>/dev/tcp/127.0.0.1/$SERVICE_PORT"
        else
            check="curl -sf http://127.0.0.1:$SERVICE_PORT$ready"
        fi
        if wait_until 60 bash -c "kill -0 $SERVICE_PID && $check"; then
            return 0
        fi
        kill -9 "$SERVICE_PID" 2>/dev/null
    done
    fail "$name did not start: $(tail -5 "$T/$name.log")"
}

# --- moto and the fault proxy ------------------------------------------------

# have_moto: moto_server and python3 are installed
have_moto() {
    command -v moto_server >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1
}

# start_moto: moto_server with the bucket $BUCKET; sets MOTO (its URL)
start_moto() {
    start_service moto /moto-api/ moto_server -H 127.0.0.1 -p @PORT@
    MOTO=http://127.0.0.1:$SERVICE_PORT
    curl -sf -X PUT "$MOTO/$BUCKET" >/dev/null || fail "cannot create bucket $BUCKET in moto"
}

# moto_iam ARGS...: a request to moto's IAM (which moto picks by the
# credential scope of the signature); ARGS are curl's
moto_iam() {
    curl -sf -X POST "$MOTO/" \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x' \
        -d Version=2010-05-08 "$@"
}

# xml_field NAME: the text of <NAME> in the XML on stdin
xml_field() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }

proxy_up() {
    curl -sf "http://127.0.0.1:$PROXY_PORT/__proxy__/stats" >/dev/null
}

# start_proxy_to UPSTREAM [PORT]: the fault proxy in front of UPSTREAM, its
# signature check off, on a free port or on PORT again; sets PROXY_PORT,
# PROXY_PID and PROXY (its URL)
start_proxy_to() {
    if [ $# = 1 ]; then
        start_service proxy /__proxy__/stats python3 "$SRC/tests/s3_faultproxy.py" --port @PORT@ --upstream "$1"
        PROXY_PORT=$SERVICE_PORT
    else
        python3 "$SRC/tests/s3_faultproxy.py" --port "$2" --upstream "$1" >>"$T/proxy.log" 2>&1 &
        SERVICE_PID=$!
        PIDS_TO_KILL+=("$SERVICE_PID")
        PROXY_PORT=$2
        wait_until 30 proxy_up || fail "the proxy did not come back on port $2: $(tail -5 "$T/proxy.log")"
    fi
    PROXY_PID=$SERVICE_PID
    PROXY=http://127.0.0.1:$PROXY_PORT
}

# start_proxy [PORT]: the fault proxy in front of moto, checking signatures
# against $AWS_SECRET_ACCESS_KEY, on a free port or on PORT again
start_proxy() {
    start_proxy_to "$MOTO" "$@"
    proxy_post verify "{\"secret\": \"$AWS_SECRET_ACCESS_KEY\"}"
}

# storage_down: the proxy dies; every request then meets a refused connection
storage_down() {
    {
        kill -9 "$PROXY_PID"
        wait "$PROXY_PID"
    } 2>/dev/null
}

# proxy_post reset|faults|verify [JSON]: the proxy's control interface
proxy_post() {
    curl -sf -X POST "http://127.0.0.1:$PROXY_PORT/__proxy__/$1" -d "${2:-{\}}" >/dev/null ||
        fail "proxy control $1 $2 failed"
}

# stat_of EXPR: a Python expression over the proxy's stats
# (requests, methods, faults_left, rejected)
stat_of() {
    curl -sf "http://127.0.0.1:$PROXY_PORT/__proxy__/stats" | json_eval "$1"
}

# probe_retries [JSON-MEMBERS]: through the fault proxy, $PROBE retries
# (with $T/odd.bin as retry/a): a PUT that meets 503 twice (the fault
# with JSON-MEMBERS added, e.g. '"code": "ServerBusy"'), a GET that meets
# 429 once, a list whose connection is dropped twice, a HEAD whose first
# answer never comes; each succeeds with one request per attempt
probe_retries() {
    proxy_post reset
    proxy_post faults "{\"status\": 503, \"count\": 2${1:+, $1}}"
    expect_exit 0 "$PROBE" put retry/a "$T/odd.bin"
    assert_eq "$(stat_of requests)" 3 "attempts for a PUT that met 503 twice"
    proxy_post reset
    proxy_post faults '{"status": 429, "count": 1}'
    expect_exit 0 "$PROBE" get retry/a
    assert_eq "$(stat_of requests)" 2 "attempts for a GET that met 429 once"
    proxy_post reset
    proxy_post faults '{"mode": "drop", "count": 2}'
    expect_exit 0 "$PROBE" list retry/
    assert_eq "$(stat_of requests)" 3 "attempts for a list whose connection was dropped twice"
    proxy_post reset
    proxy_post faults '{"mode": "hang", "count": 1, "seconds": 4}'
    expect_exit 0 "$PROBE" --low-speed-s 1 head retry/a
    assert_eq "$(stat_of requests)" 2 "attempts for a HEAD whose first answer never came"
}

# moto_probe ARGS...: storage_probe against moto itself (not the proxy),
# under s3://BUCKET/arch/
moto_probe() {
    AOFROLL_SUITE_URL=s3://$BUCKET/arch/ AOFROLL_SUITE_S3_ENDPOINT=$MOTO AOFROLL_SUITE_S3_PATH_STYLE=1 \
        "$BIN/storage_probe" "$@"
}

# --- sshd --------------------------------------------------------------------

SSHD=/usr/sbin/sshd

# have_sshd: OpenSSH's sshd and ssh-keygen are installed
have_sshd() {
    [ -x "$SSHD" ] && command -v ssh-keygen >/dev/null 2>&1
}

# start_sshd DIR: an sshd serving SFTP (internal-sftp) on a free loopback
# port, configured in DIR: ed25519 host key DIR/host_key, client key
# DIR/client (its public half the one authorized key), no passwords, no
# PAM. Sets SSHD_PORT; its log is $T/sshd.log.
start_sshd() {
    local dir=$1
    mkdir -p "$dir" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -C aofroll-host -f "$dir/host_key" || fail "ssh-keygen host key"
    ssh-keygen -q -t ed25519 -N '' -C aofroll-client -f "$dir/client" || fail "ssh-keygen client key"
    cp "$dir/client.pub" "$dir/authorized_keys"
    printf '%s\n' "ListenAddress 127.0.0.1" "HostKey $dir/host_key" "AuthorizedKeysFile $dir/authorized_keys" \
        "PasswordAuthentication no" "KbdInteractiveAuthentication no" "PubkeyAuthentication yes" \
        "PermitRootLogin prohibit-password" "UsePAM no" "StrictModes no" "Subsystem sftp internal-sftp" \
        "PidFile $dir/sshd.pid" >"$dir/sshd_config"
    start_service sshd tcp "$SSHD" -D -e -f "$dir/sshd_config" -p @PORT@
    SSHD_PORT=$SERVICE_PORT
}

# --- Azurite -----------------------------------------------------------------

AZ_ACCOUNT=devstoreaccount1
AZ_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
AZ_VERSION=2021-08-06
AZURITE_VERSION=3.35.0

# have_azurite: node and npm are here and Azurite is installed (installing
# it when missing); sets AZURITE_BLOB. Otherwise returns 1 with the reason
# in AZURITE_WHY.
have_azurite() {
    local cache=${AOFROLL_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aofroll/npm}
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        AZURITE_WHY="node or npm not found (scripts/setup.sh --tests installs them)"
        return 1
    fi
    AZURITE_BLOB=$cache/node_modules/.bin/azurite-blob
    if [ ! -x "$AZURITE_BLOB" ]; then
        # one install at a time: scenarios run in parallel share the cache
        mkdir -p "$cache" &&
            flock "$cache/.install.lock" bash -c '[ -x "$1" ] ||
                npm install --prefix "$2" --no-audit --no-fund --loglevel=error "azurite@$3"' \
                _ "$AZURITE_BLOB" "$cache" "$AZURITE_VERSION" >"$T/npm.log" 2>&1 || {
            AZURITE_WHY="npm could not install azurite: $(tail -3 "$T/npm.log")"
            return 1
        }
    fi
    [ -x "$AZURITE_BLOB" ] || { AZURITE_WHY="no $AZURITE_BLOB after npm install"; return 1; }
    command -v openssl >/dev/null 2>&1 || { AZURITE_WHY="openssl not found"; return 1; }
}

# start_azurite [PORT]: Azurite's blob service on a free port (or PORT
# again, after stop_azurite: the data is gone then, it lives in memory);
# sets AZ_PORT, AZ_PID, AZ_ENDPOINT (the account's blob service URL)
start_azurite() {
    local try
    mkdir -p "$T/azurite"
    for try in 1 2 3; do
        AZ_PORT=${1:-$(free_port)}
        (cd "$T/azurite" && exec "$AZURITE_BLOB" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
            --inMemoryPersistence --disableTelemetry --silent) >>"$T/azurite.log" 2>&1 &
        AZ_PID=$!
        PIDS_TO_KILL+=("$AZ_PID")
        if wait_until 60 bash -c "! kill -0 $AZ_PID || curl -s -o /dev/null http://127.0.0.1:$AZ_PORT/" &&
            kill -0 "$AZ_PID" 2>/dev/null; then
            AZ_ENDPOINT=http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT
            return 0
        fi
        kill -9 "$AZ_PID" 2>/dev/null
        [ $# = 0 ] || break
    done
    fail "azurite did not start: $(tail -5 "$T/azurite.log")"
}

stop_azurite() {
    kill -9 "$AZ_PID" 2>/dev/null
    wait "$AZ_PID" 2>/dev/null
}

# az_sign FORMAT ARGS...: base64 HMAC-SHA256, under the account key, of
# the string-to-sign printf FORMAT ARGS makes (piped: a command
# substitution would drop its trailing newlines)
az_sign() {
    local hexkey
    hexkey=$(printf '%s' "$AZ_KEY" | base64 -d | od -An -vtx1 | tr -d ' \n')
    # shellcheck disable=SC2059
    printf "$@" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0
}

# az_urlencode STRING
az_urlencode() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# az_account_sas PERMS: an account SAS for the blob service (containers
# and blobs), valid for a day
az_account_sas() {
    local sp=$1 se st sig
    st=$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%SZ)
    se=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
    sig=$(az_sign '%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$AZ_ACCOUNT" "$sp" b sco "$st" "$se" "" "" \
        "$AZ_VERSION" "")
    echo "sv=$AZ_VERSION&ss=b&srt=sco&sp=$sp&st=$st&se=$se&sig=$(az_urlencode "$sig")"
}

# az_container_sas CONTAINER PERMS [EXPIRY]: a service SAS for one
# container (sr=c), as an operator would hand aofroll; EXPIRY as date -d
# understands it, default a day from now
az_container_sas() {
    local container=$1 sp=$2 se st sig
    st=$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%SZ)
    se=$(date -u -d "${3:-+1 day}" +%Y-%m-%dT%H:%M:%SZ)
    sig=$(az_sign '%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s' "$sp" "$st" "$se" \
        "/blob/$AZ_ACCOUNT/$container" "" "" "" "$AZ_VERSION" c "" "" "" "" "" "" "")
    echo "sv=$AZ_VERSION&sr=c&sp=$sp&st=$st&se=$se&sig=$(az_urlencode "$sig")"
}

# az_create_container NAME: with an account SAS, as an administrator would
az_create_container() {
    local code
    code=$(curl -s -o "$T/az_create.out" -w '%{http_code}' -X PUT -H "x-ms-version: $AZ_VERSION" -H 'Content-Length: 0' \
        "$AZ_ENDPOINT/$1?restype=container&$(az_account_sas rwdlac)")
    [ "$code" = 201 ] || fail "cannot create container $1 in azurite: HTTP $code $(cat "$T/az_create.out")"
}
