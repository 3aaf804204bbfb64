#!/usr/bin/env bash
# make run: mine the sample logs with out/out_drain.so and print the new patterns.
#
# Default: out/flb-host (build/testhost) loads the plugin exactly like Fluent Bit does and
# feeds it testdata/samples. With FLUENT_BIT=/path/to/fluent-bit set (make run FLUENT_BIT=...),
# a real Fluent Bit runs a generated configuration that tails the same files instead (run
# with Fluent Bit v4.2.8: 85 new and 39 generalized events, as through the host).
#
# Stores: PG_DSN and REDIS_ADDR, when set, are passed as the output's PG_DSN and Redis_Addr
# (as ${PG_DSN} / ${REDIS_ADDR}, expanded by the host, so the DSN never shows in `ps`);
# unset, the plugin runs its log-only sink.
#
# Environment knobs: OUT (default out), SAMPLES (default testdata/samples), RUN_REPEAT
# (feed the samples K times, default 1), RUN_SECONDS (Fluent Bit mode: how long it runs,
# default 15).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-out}
SAMPLES=${SAMPLES:-testdata/samples}
SO=$OUT/out_drain.so
HOST=$OUT/flb-host
LOG=$OUT/run-host.log
EVENTS=$OUT/run-events.jsonl

for f in "$SO" "$SAMPLES/syslog.log" "$SAMPLES/journald.jsonl" "$SAMPLES/containers.jsonl"; do
    if [[ ! -e $f ]]; then
        echo "run.sh: $f is missing (make build testhost; samples: go run ./internal/samplegen -out $SAMPLES)" >&2
        exit 2
    fi
done

# The output's keys, as in fluent-bit.conf minus the secret files, buffer and metrics port.
props=(
    -p Name=drain -p Alias=drain -p Match='*' -p Retry_Limit=1
    -p Message_Key=log,message,MESSAGE,msg
    -p Source_Map=kube.=k8s_pod,host.=journald,node.=host_syslog
    -p Node_Name="$(hostname)"
)
stores="log-only sink"
if [[ -n ${PG_DSN:-} ]]; then
    props+=(-p 'PG_DSN=${PG_DSN}')
    stores="PostgreSQL"
fi
if [[ -n ${REDIS_ADDR:-} ]]; then
    props+=(-p 'Redis_Addr=${REDIS_ADDR}')
    [[ $stores == "log-only sink" ]] && stores="Redis" || stores="$stores + Redis"
fi

# summarize prints the plugin's new-pattern lines, then the event counts by kind.
summarize() {
    echo "== new patterns (all events: $EVENTS) =="
    grep '"kind":"new"' "$EVENTS" || true
    echo "== events by kind:"
    grep -o '"kind":"[a-z_]*"' "$EVENTS" | sort | uniq -c || true
}

if [[ -n ${FLUENT_BIT:-} ]]; then
    # Mirrors the host run below; needs tail, rewrite_tag and record_modifier.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$PWD" "$(basename "$1")"); }
    cat >"$tmp/plugins.conf" <<EOF
[PLUGINS]
    Path $(abs "$SO")
EOF
    cat >"$tmp/parsers.conf" <<'EOF'
[PARSER]
    Name   json_lines
    Format json
EOF
    {
        cat <<EOF
[SERVICE]
    Daemon          Off
    Flush           1
    Grace           5
    Log_Level       info
    Coro_Stack_Size 131072
    Parsers_File    $tmp/parsers.conf
    Plugins_File    $tmp/plugins.conf

[INPUT]
    Name            tail
    Path            $(abs "$SAMPLES/syslog.log")
    Tag             node.syslog.var.log.syslog
    Read_From_Head  On

[INPUT]
    Name            tail
    Path            $(abs "$SAMPLES/journald.jsonl"),$(abs "$SAMPLES/containers.jsonl")
    Tag             jsonl.*
    Parser          json_lines
    Read_From_Head  On

# the sample records carry their Fluent Bit tag in _tag
[FILTER]
    Name            rewrite_tag
    Match           jsonl.*
    Rule            \$_tag ^(.+)\$ \$1 false

[FILTER]
    Name            record_modifier
    Match           *
    Remove_key      _tag

[OUTPUT]
    Name            drain
    Alias           drain
    Match           *
    Workers         1
    Retry_Limit     1
    Message_Key     log,message,MESSAGE,msg
    Source_Map      kube.=k8s_pod,host.=journald,node.=host_syslog
    Node_Name       $(hostname)
EOF
        if [[ -n ${PG_DSN:-} ]]; then printf '    PG_DSN          ${PG_DSN}\n'; fi
        if [[ -n ${REDIS_ADDR:-} ]]; then printf '    Redis_Addr      ${REDIS_ADDR}\n'; fi
    } >"$tmp/fluent-bit.conf"
    echo "run.sh: $FLUENT_BIT -c $tmp/fluent-bit.conf for ${RUN_SECONDS:-15}s ($stores)" >&2
    rc=0
    timeout --signal=TERM --kill-after=30 "${RUN_SECONDS:-15}" "$FLUENT_BIT" -c "$tmp/fluent-bit.conf" \
        >"$EVENTS" 2>"$LOG" || rc=$?
    summarize
    # timeout's SIGTERM is the normal way this run ends (124)
    if [[ $rc -ne 0 && $rc -ne 124 ]]; then
        echo "run.sh: fluent-bit exited with status $rc; log: $LOG" >&2
        tail -n 20 "$LOG" >&2
        exit "$rc"
    fi
    exit 0
fi

[[ -x $HOST ]] || { echo "run.sh: $HOST is missing (make testhost)" >&2; exit 2; }
echo "run.sh: $HOST, workers 1, $stores; host log: $LOG" >&2
rc=0
"$HOST" --workers 1 --per-tag --repeat "${RUN_REPEAT:-1}" "${props[@]}" \
    -t node.syslog.var.log.syslog --format lines --key log -f "$SAMPLES/syslog.log" \
    -t host.unknown --format json -f "$SAMPLES/journald.jsonl" \
    -t kube.unknown --format json -f "$SAMPLES/containers.jsonl" \
    "$SO" >"$EVENTS" 2>"$LOG" || rc=$?
summarize
echo "== host" >&2
grep -E '^\[host\] (summary|total|FAIL|warn)|\[drain\]' "$LOG" >&2 || true
if [[ $rc -ne 0 ]]; then
    echo "run.sh: flb-host exited with status $rc; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
fi
exit "$rc"
