#!/bin/sh
# demo.sh - run the demo server with config/demo.conf, send it a few requests
# with curl and show the spans it printed. Usage: sh examples/demo.sh BUILD_DIR
set -u

BUILD=${1:-build}
SERVER="$BUILD/demo-server"
CONF=${DEMO_CONF:-config/demo.conf}

if [ ! -x "$SERVER" ]; then
    echo "demo.sh: $SERVER not found; run make first" >&2
    exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "demo.sh: curl is needed" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mhd-otel-demo.XXXXXX") || exit 1
OUT="$TMP/stdout"
ERR="$TMP/stderr"
BODY="$TMP/body"
PID=""

cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$SERVER" -p 0 -c "$CONF" >"$OUT" 2>"$ERR" &
PID=$!

# Wait up to 5 s for the "listening on" line that names the port.
URL=""
tries=0
while [ $tries -lt 50 ]; do
    URL=$(sed -n 's/^demo-server: listening on \(http:[^ ]*\)$/\1/p' "$OUT" | head -n 1)
    [ -n "$URL" ] && break
    if ! kill -0 "$PID" 2>/dev/null; then
        break
    fi
    sleep 0.1
    tries=$((tries + 1))
done
if [ -z "$URL" ]; then
    echo "demo.sh: the demo server did not start:" >&2
    cat "$ERR" >&2
    exit 1
fi
echo "== demo server listening on $URL (config $CONF)"

# request PATH [curl options...]: one GET, showing status and body.
request() {
    path=$1
    shift
    code=$(curl -s --max-time 5 -o "$BODY" -w '%{http_code}' "$@" "$URL$path")
    printf '\n-> GET %s' "$path"
    [ $# -gt 0 ] && printf ' (%s)' "$*"
    printf '\n<- %s %s\n' "$code" "$(head -c 200 "$BODY" 2>/dev/null)"
}

request /hello/Alice
request /data
request /error
request /health
request /hello/Bob -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

# SIGTERM makes the server flush its spans; give it 10 s before SIGKILL.
kill -TERM "$PID"
tries=0
while kill -0 "$PID" 2>/dev/null && [ $tries -lt 100 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
kill -KILL "$PID" 2>/dev/null
wait "$PID"
status=$?
PID=""

echo
echo "== server stderr:"
cat "$ERR"
echo
SPANS="$TMP/spans"
grep -v '^demo-server: ' "$OUT" >"$SPANS"
echo "== spans (JSON lines written by the console exporter):"
if [ -s "$SPANS" ]; then
    cat "$SPANS"
    if [ -x "$BUILD/mhd-otel" ]; then
        echo
        echo "== the same, each trace as a waterfall (mhd-otel view):"
        "$BUILD/mhd-otel" view --attr http.response.status_code "$SPANS"
    fi
else
    echo "(none on stdout: does $CONF send the console exporter elsewhere?)"
fi
if [ $status -ne 0 ]; then
    echo "demo.sh: demo server exited with status $status" >&2
    exit 1
fi
exit 0
