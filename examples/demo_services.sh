#!/bin/sh
# demo_services.sh - run service-b and service-a (which calls B through
# libcurl), request /order/42 from A and show the one trace it made across
# both services as a tree. Usage: sh examples/demo_services.sh BUILD_DIR
set -u

BUILD=${1:-build}
SVC_A="$BUILD/service-a"
SVC_B="$BUILD/service-b"
CONF_A=${SERVICE_A_CONF:-config/service-a.conf}
CONF_B=${SERVICE_B_CONF:-config/service-b.conf}

for bin in "$SVC_A" "$SVC_B"; do
    if [ ! -x "$bin" ]; then
        echo "demo_services.sh: $bin not found; run make first" >&2
        exit 1
    fi
done
if ! command -v curl >/dev/null 2>&1; then
    echo "demo_services.sh: curl is needed" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mhd-otel-services.XXXXXX") || exit 1
BODY="$TMP/body"
PID_A=""
PID_B=""

cleanup() {
    for p in $PID_A $PID_B; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_url NAME OUT PID: print the URL of NAME's "listening on" line in OUT,
# waiting up to 5 s; nothing when it did not come.
wait_url() {
    tries=0
    while [ $tries -lt 50 ]; do
        url=$(sed -n "s/^$1: listening on \\(http:[^ ]*\\)\$/\\1/p" "$2" | head -n 1)
        if [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
        tries=$((tries + 1))
    done
    return 1
}

# stop PID: SIGTERM (the service flushes its spans), SIGKILL after 10 s.
# Returns the exit status.
stop() {
    kill -TERM "$1" 2>/dev/null
    tries=0
    while kill -0 "$1" 2>/dev/null && [ $tries -lt 100 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1"
}

"$SVC_B" -p 0 -c "$CONF_B" >"$TMP/b.out" 2>"$TMP/b.err" &
PID_B=$!
URL_B=$(wait_url service-b "$TMP/b.out" "$PID_B")
if [ -z "$URL_B" ]; then
    echo "demo_services.sh: service-b did not start:" >&2
    cat "$TMP/b.err" >&2
    exit 1
fi
echo "== service-b listening on $URL_B (config $CONF_B)"

"$SVC_A" -p 0 -c "$CONF_A" -b "$URL_B" >"$TMP/a.out" 2>"$TMP/a.err" &
PID_A=$!
URL_A=$(wait_url service-a "$TMP/a.out" "$PID_A")
if [ -z "$URL_A" ]; then
    echo "demo_services.sh: service-a did not start:" >&2
    cat "$TMP/a.err" >&2
    exit 1
fi
echo "== service-a listening on $URL_A (config $CONF_A), calling $URL_B"

code=$(curl -s --max-time 10 -o "$BODY" -w '%{http_code}' "$URL_A/order/42")
printf '\n-> GET /order/42\n<- %s %s\n' "$code" "$(head -c 300 "$BODY" 2>/dev/null)"

stop "$PID_A"
status_a=$?
PID_A=""
stop "$PID_B"
status_b=$?
PID_B=""

echo
echo "== stderr of both services:"
cat "$TMP/a.err" "$TMP/b.err"

grep -v '^service-a: ' "$TMP/a.out" >"$TMP/a.spans"
grep -v '^service-b: ' "$TMP/b.out" >"$TMP/b.spans"

# The trace of /order/42: the trace id of A's server span for that path.
TRACE=$(grep '"url.path":"/order/42"' "$TMP/a.spans" |
    sed -n 's/^{"trace_id":"\([0-9a-f]*\)".*/\1/p' | head -n 1)
echo
if [ -z "$TRACE" ]; then
    echo "demo_services.sh: no span of service-a for /order/42" >&2
    exit 1
fi
grep -h "\"trace_id\":\"$TRACE\"" "$TMP/a.spans" "$TMP/b.spans" >"$TMP/trace"
echo "== trace $TRACE: $(wc -l <"$TMP/trace") spans"
echo "== its spans (JSON lines of both console exporters):"
cat "$TMP/trace"
if [ -x "$BUILD/mhd-otel" ]; then
    echo
    echo "== the same trace as a waterfall (mhd-otel view): each span under its parent"
    "$BUILD/mhd-otel" view --attr url.full --attr url.path "$TMP/trace"
fi

if [ "$status_a" -ne 0 ] || [ "$status_b" -ne 0 ]; then
    echo "demo_services.sh: exit status service-a $status_a, service-b $status_b" >&2
    exit 1
fi
[ "$code" = 200 ]
