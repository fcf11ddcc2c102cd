# json.sh - reading JSON in a scenario (sourced after scenario.sh): a
# value out of a document, or out of a service's JSON answer, and the
# reference that the inspection commands' --json output is compared with.
#
# aofref.py gunzips a generation's incr objects straight from the storage
# directory (no aofroll code involved), parses the AOF with its own small
# RESP reader, and answers questions about the commands (offset,
# arguments, db, #TS second).

# json_get FILE EXPR: evaluate a python expression on the JSON document d
json_get() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# json_eval EXPR: a python expression over the JSON object on stdin, its
# keys as names (EXPR "requests" prints d["requests"])
json_eval() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"
}

# aofref QUESTION INSTANCE GEN [ARGS...]: ask the reference about $STORE
aofref() {
    local q=$1 inst=$2 gen=$3
    shift 3
    python3 "$HARNESS_LIB/aofref.py" "$q" "$STORE" "$inst" "$gen" "$@"
}

# show_matches_ref GEN COND: `aofroll show --chunk ID --json` of every chunk
# of $T/ls.json (aofroll ls --json) for which the python condition COND on
# c holds, instance "live" of $CFG, agrees with the reference on
# generation GEN; the shows in $T/show.ID.json, their files in SHOWN[@],
# how many commands they hold in $SHOWN_COMMANDS
show_matches_ref() {
    local gen=$1 cond=$2 id
    SHOWN=()
    for id in $(json_get "$T/ls.json" "' '.join(str(c['id']) for c in d['chunks'] if $cond)"); do
        "$A" show -c "$CFG" --instance live --chunk "$id" --max-arg 0 --json >"$T/show.$id.json" ||
            fail "show --chunk $id: $("$A" show -c "$CFG" --instance live --chunk "$id" 2>&1 >/dev/null)"
        SHOWN+=("$T/show.$id.json")
    done
    SHOWN_COMMANDS=$(aofref check-json live "$gen" "${SHOWN[@]}") ||
        fail "show --chunk disagrees with the reference: $SHOWN_COMMANDS"
}
