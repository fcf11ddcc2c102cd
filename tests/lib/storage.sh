# storage.sh - the storage a scenario archives into (sourced by scenario.sh):
# AOFROLL_TEST_STORAGE "file" (the default) or "azure". With "azure" an
# Azurite started for the scenario (services.sh) holds each storage
# directory DIR as the prefix "DIR relative to the scenario's temp dir" of
# one container, and the store_* helpers reach objects the same way on
# both.

# need_probe [PROGRAM...]: storage_probe (in $PROBE) and each PROGRAM are
# built in $BIN
need_probe() {
    local prog
    for prog in storage_probe "$@"; do
        [ -x "$BIN/$prog" ] || fail "no $BIN/$prog: build it first"
    done
    PROBE=$BIN/storage_probe
}

# probe_basics: through $PROBE on $AOFROLL_SUITE_URL (a backend scenario's
# storage), a 3 MiB object ($KEY, bytes $T/big.bin) and one under a key
# needing every kind of encoding ($ODD, bytes $T/odd.bin) are put, read
# back, sized and listed as they were given
probe_basics() {
    head -c 3145757 /dev/urandom >"$T/big.bin"
    KEY="inst/gen-000001/base/00000000000000000000-00000000000003145757.rdb.gz"
    ODD="odd/a&b<c>d\"e'f g+h%i~é=,:@!*()[]{}"
    printf 'odd bytes\0\n' >"$T/odd.bin"
    expect_exit 0 "$PROBE" put "$KEY" "$T/big.bin"
    expect_exit 0 "$PROBE" put "$ODD" "$T/odd.bin"
    "$PROBE" get "$KEY" >"$T/big.back" || fail "get $KEY"
    cmp -s "$T/big.bin" "$T/big.back" || fail "3 MiB object read back differs"
    assert_eq "$("$PROBE" head "$KEY")" 3145757 "head size"
    "$PROBE" get "$ODD" >"$T/odd.back" && cmp -s "$T/odd.bin" "$T/odd.back" || fail "odd key read back differs"
    assert_eq "$("$PROBE" list odd/ | cut -f1)" "$ODD" "odd key as listed (XML entities decoded)"
}

# store_url DIR: the storage URL standing for storage directory DIR
store_url() {
    if [ "$TEST_STORAGE" = azure ]; then
        echo "azure://$AZ_ACCOUNT/$AZ_CONTAINER/${1#"$T"/}"
    else
        echo "file://$1"
    fi
}

# store_probe DIR ARGS...: storage_probe on the storage of DIR (azure only)
store_probe() {
    local dir=$1
    shift
    AOFROLL_SUITE_URL=$(store_url "$dir")/ AOFROLL_SUITE_AZURE_ENDPOINT=$AZ_ENDPOINT "$BIN/storage_probe" "$@"
}

# store_ls DIR [PREFIX]: the keys under PREFIX in the storage of DIR, sorted
store_ls() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" list "${2:-}" | cut -f1
    else
        (cd "$1" && find . -type f -path "./${2:-}*" | sed 's|^\./||' | LC_ALL=C sort)
    fi
}

# store_get DIR KEY: the object's bytes on stdout
store_get() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" get "$2"
    else
        cat "$1/$2"
    fi
}

# store_put DIR KEY FILE|-: replace the object's bytes (a test's damage)
store_put() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" put "$2" "$3" >/dev/null
    elif [ "$3" = - ]; then
        cat >"$1/$2"
    else
        cat "$3" >"$1/$2"
    fi
}

# storage_under_test: set up what AOFROLL_TEST_STORAGE names; exits 77
# (skipped) when it is azure and Azurite cannot run here
storage_under_test() {
    TEST_STORAGE=${AOFROLL_TEST_STORAGE:-file}
    if [ "$TEST_STORAGE" = azure ]; then
        . "$HARNESS_LIB/services.sh"
        have_azurite || skip "$AZURITE_WHY"
        start_azurite
        AZ_CONTAINER=scenario
        az_create_container "$AZ_CONTAINER"
        AZURE_STORAGE_SAS_TOKEN=$(az_container_sas "$AZ_CONTAINER" racwdl)
        export AZURE_STORAGE_SAS_TOKEN
    elif [ "$TEST_STORAGE" != file ]; then
        fail "AOFROLL_TEST_STORAGE=$TEST_STORAGE: expected file or azure"
    fi
}
