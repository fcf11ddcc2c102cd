# package.sh - helpers of the install and package scenarios
# (it_install.sh, it_package.sh): scenario.sh loads it as module "package".

# sample_for_test SAMPLE OUT PORT: the installed sample configuration,
# edited only where it must be to point at this scenario: the Redis of the
# first instance, the storage and the index in $T. Every comment and every
# other key stays, so that --check on OUT judges the sample as shipped.
sample_for_test() {
    sed -e "s|^\(  *url:\) file:///var/lib/aofroll/archive|\1 file://$T/store|" \
        -e "s|^index: /var/lib/aofroll/index.db|index: $T/index.db|" \
        -e "s|^\(    redis:\) redis://127.0.0.1:6379|\1 redis://127.0.0.1:$3|" "$1" >"$2"
    grep -q "file://$T/store" "$2" && grep -q "index: $T/index.db" "$2" &&
        grep -q "redis://127.0.0.1:$3" "$2" || fail "the sample $1 no longer has the keys the test edits"
}

# unit_value UNIT KEY: the value of KEY= in a systemd unit file
unit_value() {
    sed -n "s/^$2=//p" "$1"
}

# complete_words SCRIPT WORD...: what the bash completion in SCRIPT offers
# for the command line WORD... (the last word is the one completed)
complete_words() {
    local script=$1
    shift
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
             f=_aofroll_complete; [ "$1" = aofroll-collector ] && f=_aofroll_collector_complete
             $f; printf "%s\n" "${COMPREPLY[@]}"' complete "$script" "$@"
}
