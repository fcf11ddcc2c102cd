# azurite_lib.sh - Azure Blob storage on loopback, for the azure://
# scenarios (it_storage_azure.sh, it_restore.sh/it_reindex.sh with
# AOFROLL_TEST_STORAGE=azure, it_faults_storage_azure.sh). Sourced after
# lib.sh; not a scenario itself.
#
# Azurite (the npm package, Microsoft's Azure Storage emulator) is
# installed on first use with npm into a cache outside the checkout
# (AOFROLL_NPM_CACHE, default ~/.cache/aofroll/npm) and started per
# scenario on a free port in the scenario's temp dir, in memory, with its
# telemetry off. SAS tokens are made here the way Azure makes them:
# HMAC-SHA256 (openssl) of the string-to-sign under Azurite's well-known
# development account key.

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
