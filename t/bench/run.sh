#!/bin/sh
# run.sh - make bench: the tracing overhead measured as ratios within one
# run. Interleaved rounds of the demo server untraced, traced (100% sampled,
# console exporter writing JSON to /dev/null), traced with the path skipped,
# and sampled at ratio 0; wrk load on loopback; medians of the rounds. Then
# the core's instructions per span under callgrind.
# usage: sh t/bench/run.sh BUILD   (ROUNDS, SECONDS, CONNS override)
set -u
build=$1
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-4}
conns=${CONNS:-32}
server="$build/demo-server"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mhd-otel-bench.XXXXXX") || exit 1
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

common='otel_route /hello/{name};
otel_exporter console { format json; output /dev/null; }'
printf 'otel_trace off;\n' >"$tmp/untraced.conf"
printf 'otel_sampler always_on;\n%s\n' "$common" >"$tmp/traced.conf"
printf 'otel_sampler always_on;\notel_skip_prefix /hello/;\n%s\n' "$common" >"$tmp/skipped.conf"
printf 'otel_sampler traceidratio 0;\n%s\n' "$common" >"$tmp/ratio0.conf"
configs="untraced traced skipped ratio0"

# cpu_ticks PID: user+system clock ticks the process has used.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# one CONFIG: start the server, warm up, measure; appends "rps cpu_us_per_req".
one() {
    "$server" -p 0 -c "$tmp/$1.conf" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    port=""
    for _ in $(seq 50); do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "bench: server did not start" >&2; cat "$tmp/err" >&2; exit 1; }
    url="http://127.0.0.1:$port/hello/x"
    wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1
    c0=$(cpu_ticks "$pid")
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "$url" 2>&1)
    c1=$(cpu_ticks "$pid")
    kill -TERM "$pid"
    wait "$pid"
    pid=""
    reqs=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    hz=$(getconf CLK_TCK)
    awk -v r="$rps" -v n="$reqs" -v c=$((c1 - c0)) -v hz="$hz" \
        'BEGIN { printf "%s %.3f\n", r, c / hz * 1e6 / n }' >>"$tmp/$1.res"
}

median() { # file column
    sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "== demo server, GET /hello/x, wrk -t1 -c$conns, $rounds interleaved rounds of ${secs}s"
for r in $(seq "$rounds"); do
    for c in $configs; do
        one "$c"
    done
    printf '  round %s done\n' "$r"
done
base_rps=$(median "$tmp/untraced.res" 1)
base_cpu=$(median "$tmp/untraced.res" 2)
printf '\n| config | median req/s | throughput ratio | median server CPU us/req | CPU ratio |\n'
printf '| --- | --- | --- | --- | --- |\n'
for c in $configs; do
    rps=$(median "$tmp/$c.res" 1)
    cpu=$(median "$tmp/$c.res" 2)
    awk -v c="$c" -v r="$rps" -v u="$cpu" -v br="$base_rps" -v bu="$base_cpu" \
        'BEGIN { printf "| %s | %.0f | %.3f | %.2f | %.3f |\n", c, r, r / br, u, u / bu }'
done

echo
echo "== core: one server span's life (start, 11 HTTP attributes, end, enqueue, export hand-off)"
"$build/bench/span_cost" 2000000
if command -v valgrind >/dev/null 2>&1; then
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/bench/span_cost" "$1" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    a=$(ir 10000)
    b=$(ir 20000)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "callgrind: %.0f instructions per span (all threads; %s - %s over 10000 spans)\n", (b - a) / 10000, b, a }'
fi
