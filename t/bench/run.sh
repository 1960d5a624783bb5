#!/bin/sh
# run.sh - make bench: the tracing overhead measured as ratios within one
# run. Interleaved rounds of the demo server untraced, traced (100% sampled,
# OTLP/gRPC export to the independent sink started with --discard), traced
# with the path skipped, and sampled at ratio 0; traced_ack: traced at 100%
# to bench/ack_sink, a receiver that decodes nothing (the sink's decoding
# shares the load generator's CPU, and can be what limits the traced
# server's throughput); wrk load on loopback;
# medians of the rounds, with the server pinned to one CPU and wrk and the
# sink to another, then unpinned. Then the core's cost per span (ns, callgrind
# instructions), the OTLP exporter's throughput, and the server's memory
# with the collector down against up. Instructions per request are counted
# for the demo server and for it linked with libmhd-otel.so.
# usage: sh t/bench/run.sh BUILD
#   ROUNDS, SECONDS_PER_RUN, CONNS, CONFIGS, SHARED_CONFIGS, MODES ("pinned
#   unpinned"), MEMORY_SECONDS (0 skips), INSTR_REQUESTS (0 skips) override
set -u
build=$1
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-4}
conns=${CONNS:-32}
server="$build/demo-server"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mhd-otel-bench.XXXXXX") || exit 1
pid=""
sink_pid=""
tls_pid=""
ack_pid=""
cleanup() {
    [ -n "$ack_pid" ] && kill "$ack_pid" 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    [ -n "$tls_pid" ] && kill "$tls_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# Pinning: the server on the first CPU, the load and the receiver on the
# last (MODES="pinned unpinned" by default; one CPU or no taskset: unpinned).
ncpu=$(nproc 2>/dev/null || echo 1)
server_cpu=0
other_cpu=$((ncpu - 1))
modes=${MODES:-"pinned unpinned"}
pin_note="pinned: the server on CPU $server_cpu, wrk and the sink on CPU $other_cpu"
if [ "$ncpu" -lt 2 ] || ! command -v taskset >/dev/null 2>&1; then
    modes=unpinned
    pin_note="unpinned only: one CPU, or no taskset"
fi
sink_pin=""
case " $modes " in *" pinned "*) sink_pin="taskset -c $other_cpu" ;; esac

# The receiver: decodes and counts every span, writes nothing. NAME, then
# more sink arguments; its ready file is $tmp/NAME.ready.
start_sink() {
    name=$1
    shift
    $sink_pin sh t/sink.sh run "$build" --grpc-port 0 --http-port 0 --ready-file "$tmp/$name.ready" \
        --out "$tmp/$name.jsonl" --discard "$@" >"$tmp/$name.out" 2>&1 &
    for _ in $(seq 100); do
        [ -s "$tmp/$name.ready" ] && break
        sleep 0.1
    done
}
# A number of a sink's ready file: NAME FIELD.
ready_field() {
    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$tmp/$1.ready" 2>/dev/null
}
sh t/sink.sh install "$build" || exit 1
start_sink sink
sink_pid=$(ready_field sink pid)
sink_port=$(ready_field sink grpc_port)
sink_http=$(ready_field sink http_port)
[ -n "$sink_port" ] || { echo "bench: the OTLP sink did not start" >&2; exit 1; }
# A second one over TLS, with a throwaway CA made here.
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
openssl req -x509 $key -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
    2>/dev/null &&
    openssl req -x509 $key -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
        -addext basicConstraints=critical,CA:FALSE -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
        -keyout "$tmp/server.key" -out "$tmp/server.pem" 2>/dev/null ||
    { echo "bench: openssl could not make the test certificates" >&2; exit 1; }
start_sink tls --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key"
tls_pid=$(ready_field tls pid)
tls_grpc=$(ready_field tls grpc_port)
tls_http=$(ready_field tls http_port)
[ -n "$tls_grpc" ] || { echo "bench: the TLS sink did not start" >&2; exit 1; }

# The receiver that decodes nothing, where the sink runs.
$sink_pin "$build/bench/ack_sink" >"$tmp/ack.out" 2>&1 &
ack_pid=$!
ack_port=""
for _ in $(seq 100); do
    ack_port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$tmp/ack.out")
    [ -n "$ack_port" ] && break
    sleep 0.1
done
[ -n "$ack_port" ] || { echo "bench: bench/ack_sink did not start" >&2; exit 1; }

common="otel_route /hello/{name};
otel_exporter otlp { endpoint http://127.0.0.1:$sink_port; }"
printf 'otel_trace off;\n' >"$tmp/untraced.conf"
printf 'otel_sampler always_on;\n%s\n' "$common" >"$tmp/traced.conf"
printf 'otel_sampler always_on;\notel_route /hello/{name};\notel_exporter otlp { endpoint http://127.0.0.1:%s; }\n' \
    "$ack_port" >"$tmp/traced_ack.conf"
printf 'otel_sampler always_on;\notel_skip_prefix /hello/;\n%s\n' "$common" >"$tmp/skipped.conf"
printf 'otel_sampler traceidratio 0;\n%s\n' "$common" >"$tmp/ratio0.conf"
# The keep decision against its sampling ratio alone (CONFIGS="untraced ratio001 keep").
printf 'otel_sampler traceidratio 0.01;\n%s\n' "$common" >"$tmp/ratio001.conf"
printf 'otel_sampler traceidratio 0.01;\notel_keep_errors on;\notel_keep_slower_than 500ms;\n%s\n' \
    "$common" >"$tmp/keep.conf"
# Metrics (every request counted, OTLP push once a minute) on top of the
# traced and the ratio-0 configs.
printf 'otel_sampler always_on;\notel_metrics { interval 60s; }\n%s\n' "$common" >"$tmp/metrics.conf"
printf 'otel_sampler traceidratio 0;\notel_metrics { interval 60s; }\n%s\n' "$common" \
    >"$tmp/ratio0_metrics.conf"
configs=${CONFIGS:-"untraced traced traced_ack skipped ratio0 metrics ratio0_metrics"}


server_args="" # more demo-server arguments, such as -t 16

# cpu_ticks PID: user+system clock ticks the process has used.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# start CONFIG [WRAPPER...]: the demo server with CONFIG (run under WRAPPER,
# e.g. valgrind, when given) in the background; sets pid and port, its
# stdout in $tmp/out and stderr in $tmp/err. Waits up to 30 s.
start() {
    conf=$1
    shift
    # shellcheck disable=SC2086 # server_args are words
    "$@" "$server" -p 0 -c "$tmp/$conf.conf" $server_args >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    port=""
    for _ in $(seq 300); do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "bench: server did not start" >&2; cat "$tmp/err" >&2; exit 1; }
}

# stop: SIGTERM the server and wait for it.
stop() {
    kill -TERM "$pid"
    wait "$pid"
    last_pid=$pid
    pid=""
}

# one CONFIG MODE: start the server, warm up, measure; appends "rps
# cpu_us_per_req" to CONFIG.MODE.res. MODE pinned: the server (its handler
# threads and its exporter) on the first CPU, wrk on the last, where the
# sink is; unpinned: both where the scheduler puts them.
one() {
    if [ "$2" = pinned ]; then
        start "$1" taskset -c "$server_cpu"
        load="taskset -c $other_cpu"
    else
        start "$1"
        load=""
    fi
    url="http://127.0.0.1:$port/hello/x"
    $load wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1
    c0=$(cpu_ticks "$pid")
    out=$($load wrk -t1 -c"$conns" -d"${secs}s" "$url" 2>&1)
    c1=$(cpu_ticks "$pid")
    stop
    reqs=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    hz=$(getconf CLK_TCK)
    awk -v r="$rps" -v n="$reqs" -v c=$((c1 - c0)) -v hz="$hz" \
        'BEGIN { printf "%s %.3f\n", r, c / hz * 1e6 / n }' >>"$tmp/$1.$2.res"
}

median() { # file column
    sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "== demo server, GET /hello/x, wrk -t1 -c$conns, $rounds interleaved rounds of ${secs}s ($modes)"
[ "$pin_note" = "" ] || echo "$pin_note"
for r in $(seq "$rounds"); do
    for mode in $modes; do
        for c in $configs; do
            one "$c" "$mode"
        done
    done
    printf '  round %s done\n' "$r"
done
for mode in $modes; do
    base_rps=$(median "$tmp/untraced.$mode.res" 1)
    base_cpu=$(median "$tmp/untraced.$mode.res" 2)
    printf '\n%s:\n\n' "$mode"
    printf '| config | median req/s | throughput ratio | median server CPU us/req | CPU ratio |\n'
    printf '| --- | --- | --- | --- | --- |\n'
    for c in $configs; do
        rps=$(median "$tmp/$c.$mode.res" 1)
        cpu=$(median "$tmp/$c.$mode.res" 2)
        awk -v c="$c" -v r="$rps" -v u="$cpu" -v br="$base_rps" -v bu="$base_cpu" \
            'BEGIN { printf "| %s | %.0f | %.3f | %.2f | %.3f |\n", c, r, r / br, u, u / bu }'
    done
done

# Contention: MHD thread pools of THREADS (4 and 16) threads on all CPUs,
# untraced against traced at 100%. perf stat counts, over the server's
# threads during one wrk run, its system calls, its futex calls (a lock
# convoy shows as futex waits, each a context switch) and its context
# switches; all per request, medians of THREAD_ROUNDS interleaved rounds.
perf_ok=""
command -v perf >/dev/null 2>&1 &&
    perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_futex -o /dev/null -- true 2>/dev/null &&
    perf_ok=1
thread_counts=${THREADS:-"4 16"}
tconns=${THREAD_CONNS:-64}
# contended CONFIG: one wrk run of the started server under perf stat;
# appends "rps cpu_us syscalls futex cswitch" (per request) to
# CONFIG.t$threads.res.
contended() {
    start "$1"
    url="http://127.0.0.1:$port/hello/x"
    wrk -t1 -c"$tconns" -d1s "$url" >/dev/null 2>&1
    perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_futex,context-switches \
        -p "$pid" -o "$tmp/perf.txt" 2>/dev/null &
    perf_pid=$!
    sleep 0.2 # perf attached to every thread
    c0=$(cpu_ticks "$pid")
    out=$(wrk -t1 -c"$tconns" -d"${secs}s" "$url" 2>&1)
    c1=$(cpu_ticks "$pid")
    kill -INT "$perf_pid"
    wait "$perf_pid"
    stop
    reqs=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    awk -F, -v r="$rps" -v n="$reqs" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
        $3 == "raw_syscalls:sys_enter" { sc = $1 }
        $3 == "syscalls:sys_enter_futex" { fx = $1 }
        $3 == "context-switches" { cs = $1 }
        END { printf "%s %.3f %.3f %.4f %.3f\n", r, c / hz * 1e6 / n, sc / n, fx / n, cs / n }' \
        "$tmp/perf.txt" >>"$tmp/$1.t$threads.res"
}
if [ -n "$perf_ok" ] && [ "${THREAD_ROUNDS:-3}" -gt 0 ]; then
    echo
    echo "== contention: MHD thread pools of $thread_counts threads on $ncpu CPUs (unpinned), wrk -t1 -c$tconns, ${THREAD_ROUNDS:-3} interleaved rounds of ${secs}s"
    echo "(perf stat over the server's threads: system calls, futex calls and context switches per request)"
    for r in $(seq "${THREAD_ROUNDS:-3}"); do
        for threads in $thread_counts; do
            server_args="-t $threads"
            for c in untraced traced; do
                contended "$c"
            done
        done
    done
    server_args=""
    printf '\n| threads | config | req/s | CPU us/req | syscalls/req | futex/req | context switches/req |\n'
    printf '| --- | --- | --- | --- | --- | --- | --- |\n'
    for threads in $thread_counts; do
        for c in untraced traced; do
            f="$tmp/$c.t$threads.res"
            printf '| %s | %s | %.0f | %.2f | %.3f | %.4f | %.3f |\n' "$threads" "$c" \
                "$(median "$f" 1)" "$(median "$f" 2)" "$(median "$f" 3)" "$(median "$f" 4)" "$(median "$f" 5)"
        done
    done
else
    echo
    echo "== contention: skipped (THREAD_ROUNDS=0, no perf, or its syscall tracepoints are not readable here)"
fi

# System calls of the request path: strace -c over every thread of the
# server while one curl process makes STRACE_REQUESTS keep-alive GETs (after
# as many to warm up, so that pools, buffers and per-thread state have
# grown: MHD's pool is of one thread here, so the warmed thread is the one
# measured), untraced against traced; per 1000 requests, by system call.
syscalls_of() {
    : >"$tmp/curl.cfg"
    for _ in $(seq "$2"); do
        printf 'url = "http://127.0.0.1:%s/hello/x"\noutput = /dev/null\n' "$port" >>"$tmp/curl.cfg"
    done
    curl -s -K "$tmp/curl.cfg"
    strace -f -c -p "$pid" -o "$tmp/strace.$1" 2>/dev/null &
    st_pid=$!
    sleep 0.5 # attached to every thread
    curl -s -K "$tmp/curl.cfg"
    sleep 0.2
    kill -INT "$st_pid"
    wait "$st_pid"
}
sn=${STRACE_REQUESTS:-2000}
if command -v strace >/dev/null 2>&1 && [ "$sn" -gt 0 ]; then
    echo
    echo "== system calls per 1000 requests (strace -c -f, all threads, demo-server -t 1; one curl, $sn keep-alive GETs after $sn to warm up)"
    server_args="-t 1"
    for c in untraced traced; do
        start "$c"
        syscalls_of "$c" "$sn"
        stop
    done
    server_args=""
    printf '\n| system call | untraced | traced |\n| --- | --- | --- |\n'
    # The lines of strace's table: calls in column 4, the name last.
    awk -v n="$sn" '
        FNR == 1 { f++ }
        $1 ~ /^[0-9.]+$/ && $NF != "total" { c[$NF, f] = $4; seen[$NF] = 1 }
        END { for (k in seen) printf "| %s | %.1f | %.1f |\n", k, c[k, 1] * 1000 / n, c[k, 2] * 1000 / n }' \
        "$tmp/strace.untraced" "$tmp/strace.traced" | sort -t'|' -k4,4nr -k3,3nr
fi

sink_final=$(kill -USR1 "$sink_pid" 2>/dev/null; sleep 0.5; grep 'otlp-sink stats' "$tmp/sink.out" | tail -n 1)
echo "sink: ${sink_final#*stats }"

echo
echo "== OTLP exporter: spans encoded and sent per second (to the sink, --discard)"
# Each transport EXPORT_ROUNDS times, interleaved, after each one's warm-up
# round; the median of spans per exporter-CPU second. grpc-ack: gRPC to
# bench/ack_sink, which decodes nothing, the exporter on the first CPU and
# the receiver on the other, so that the figure is the exporter's own cost
# and not what the sink's decoding leaves it of the machine.
exporters="grpc grpc-ack grpc-gzip grpc-tls http http-tls json"
exporter_args() {
    case $1 in
    grpc) echo "http://127.0.0.1:$sink_port" ;;
    grpc-ack) echo "http://127.0.0.1:$ack_port" ;;
    grpc-gzip) echo "http://127.0.0.1:$sink_port gzip" ;;
    grpc-tls) echo "https://127.0.0.1:$tls_grpc ca=$tmp/ca.pem" ;;
    http) echo "http://127.0.0.1:$sink_http protocol=http/protobuf" ;;
    http-tls) echo "https://127.0.0.1:$tls_http protocol=http/protobuf ca=$tmp/ca.pem" ;;
    json) echo "http://127.0.0.1:$sink_http protocol=http/json" ;;
    esac
}
for r in $(seq "${EXPORT_ROUNDS:-3}"); do
    for x in $exporters; do
        # shellcheck disable=SC2046 # the arguments are words
        set -- $(exporter_args "$x")
        ep=$1
        shift
        pin=""
        [ "$x" = grpc-ack ] && pin="taskset -c $server_cpu"
        line=$($pin "$build/bench/export_cost" "$ep" 400000 "$@")
        echo "$line"
        echo "$line" | sed -n 's/.*, \([0-9]*\) spans per exporter-CPU second.*/\1/p' >>"$tmp/exp-$x.res"
    done
done
if [ "${EXPORT_ROUNDS:-3}" -gt 0 ]; then
    printf '\n| exporter | median spans per exporter-CPU second |\n| --- | --- |\n'
    for x in $exporters; do
        printf '| %s | %s |\n' "$x" "$(median "$tmp/exp-$x.res" 1)"
    done
fi

echo
echo "== core: one server span's life (start, 11 HTTP attributes, end, enqueue, export hand-off)"
"$build/bench/span_cost" 2000000 | tee "$tmp/span_cost.out"
span_bytes=$(sed -n 's/^memory: \([0-9]*\) bytes per span.*/\1/p' "$tmp/span_cost.out")
# ir PROGRAM ARGS...: the instructions callgrind counts for one run.
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
if command -v valgrind >/dev/null 2>&1; then
    a=$(ir "$build/bench/span_cost" 10000)
    b=$(ir "$build/bench/span_cost" 20000)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "callgrind: %.0f instructions per span (all threads; %s - %s over 10000 spans)\n", (b - a) / 10000, b, a }'
fi

echo
echo "== encoder: OTLP protobuf per span (512-span batches, 14 attributes, warm encoder)"
"$build/bench/encode_cost" 2000
if command -v valgrind >/dev/null 2>&1; then
    a=$(ir "$build/bench/encode_cost" 20)
    b=$(ir "$build/bench/encode_cost" 40)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "callgrind: %.0f instructions per span (%s - %s over 20 batches of 512)\n", (b - a) / 10240, b, a }'
fi

echo
echo "== metrics: one http.server.request.duration record (6 attributes), by attributes and bound"
"$build/bench/metrics_cost" 10000000 1
"$build/bench/metrics_cost" 10000000 1 bound
"$build/bench/metrics_cost" 5000000 2 bound
if command -v valgrind >/dev/null 2>&1; then
    for mode in "" bound; do
        a=$(ir "$build/bench/metrics_cost" 100000 1 $mode)
        b=$(ir "$build/bench/metrics_cost" 200000 1 $mode)
        awk -v a="$a" -v b="$b" -v m="${mode:-by attributes}" 'BEGIN { printf "callgrind: %.0f instructions per record (%s)\n", (b - a) / 100000, m }'
    done
fi

echo
echo "== mhd-otel view: a 500-span trace, and 100,000 spans in 5,000 traces"
"$build/bench/view_input" 500 500 >"$tmp/v500.json"
"$build/bench/view_input" 100000 20 >"$tmp/v100k.json"
for f in v500 v100k; do
    t0=$(date +%s.%N)
    "$build/mhd-otel" view --width 120 "$tmp/$f.json" >/dev/null
    t1=$(date +%s.%N)
    awk -v f="$f" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s: %.3f s\n", f, b - a }'
done

# instr CONFIG N: user-space instructions (callgrind, all threads) of the
# demo server serving N keep-alive GETs from one curl process, after 2N
# more to warm it up (pools, buffers and the exporter's connection grown) and
# with the exporter done with both (N a multiple of the export batch, 512):
# counters zeroed after the warm-up and dumped after the N requests
# (callgrind_control). Prints "total memset", memset being what glibc's
# memset did itself: valgrind counts each iteration of a rep stosb as an
# instruction, and MHD's clearing of a connection's memory pool for every
# request (a few microseconds of real time) comes out at about 49,000.
instr() {
    : >"$tmp/curl.cfg"
    for _ in $(seq "$2"); do
        printf 'url = "http://127.0.0.1:PORT/hello/x"\noutput = /dev/null\n' >>"$tmp/curl.cfg"
    done
    rm -f "$tmp"/cg.*
    start "$1" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p"
    sed -i "s/PORT/$port/" "$tmp/curl.cfg"
    curl -s -K "$tmp/curl.cfg"
    curl -s -K "$tmp/curl.cfg"
    sleep 1
    callgrind_control -z "$pid" >/dev/null 2>&1
    curl -s -K "$tmp/curl.cfg"
    sleep 1
    callgrind_control -d "$pid" >/dev/null 2>&1
    stop
    f="$tmp/cg.$last_pid.1"
    total=$(sed -n 's/^summary: \([0-9]*\)/\1/p' "$f")
    ms=$(callgrind_annotate --threshold=100 --auto=no "$f" 2>/dev/null |
        awk '/:__memset_[a-z0-9_]*erms/ { gsub(",", "", $1); m += $1 } END { print m + 0 }')
    echo "$total $ms"
}

if command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1 &&
    [ "${INSTR_REQUESTS:-2048}" -gt 0 ]; then
    n=${INSTR_REQUESTS:-2048}
    echo
    echo "== instructions per request (callgrind, user space, all threads; $n requests after $((2 * n)) to warm up)"
    echo "(without memset: less what glibc's memset did, whose rep stosb valgrind counts per byte)"
    echo "| config | instructions/request | vs untraced | without memset | vs untraced |"
    echo "| --- | --- | --- | --- | --- |"
    base=""
    for c in $configs; do
        # shellcheck disable=SC2046 # two numbers
        set -- $(instr "$c" "$n")
        per=$(awk -v a="$1" -v n="$n" 'BEGIN { printf "%.0f", a / n }')
        lean=$(awk -v a="$1" -v m="$2" -v n="$n" 'BEGIN { printf "%.0f", (a - m) / n }')
        [ -n "$base" ] || { base=$per; base_lean=$lean; }
        awk -v c="$c" -v p="$per" -v u="$base" -v l="$lean" -v ul="$base_lean" \
            'BEGIN { printf "| %s | %d | %.3f | %d | %.3f |\n", c, p, p / u, l, l / ul }'
    done
    # The same server linked with libmhd-otel.so: what a server traced with
    # LD_PRELOAD, or linked with the shared library, runs.
    shared_configs=${SHARED_CONFIGS:-"untraced traced keep"}
    echo
    echo "== instructions per request, the demo server linked with libmhd-otel.so"
    echo "| config | instructions/request | vs untraced |"
    echo "| --- | --- | --- |"
    server="$build/bench/demo-server-shared"
    base=""
    for c in $shared_configs; do
        # shellcheck disable=SC2046 # two numbers
        set -- $(instr "$c" "$n")
        per=$(awk -v a="$1" -v n="$n" 'BEGIN { printf "%.0f", a / n }')
        [ -n "$base" ] || base=$per
        awk -v c="$c" -v p="$per" -v u="$base" 'BEGIN { printf "| %s | %d | %.3f |\n", c, p, p / u }'
    done
    server="$build/demo-server"
fi

# rss_during CONFIG SECONDS: the server's peak RSS (KiB) under load.
rss_during() {
    start "$1"
    wrk -t1 -c"$conns" -d"${2}s" "http://127.0.0.1:$port/hello/x" >/dev/null 2>&1 &
    wpid=$!
    peak=0
    while kill -0 "$wpid" 2>/dev/null; do
        r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
        [ "${r:-0}" -gt "$peak" ] && peak=$r
        sleep 1
    done
    stop
    echo "$peak $(tail -n 1 "$tmp/err")"
}

mem_secs=${MEMORY_SECONDS:-60}
if [ "$mem_secs" -gt 0 ]; then
    echo
    echo "== memory: peak RSS under full load for ${mem_secs}s, collector up vs down"
    printf '%s\n' "$common" >"$tmp/up.conf"
    # A port that was free a moment ago: nothing listens there.
    down_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 9)
    printf 'otel_route /hello/{name};\notel_exporter otlp { endpoint http://127.0.0.1:%s; }\n' "$down_port" >"$tmp/down.conf"
    up=$(rss_during up "$mem_secs")
    down=$(rss_during down "$mem_secs")
    echo "collector up:   peak RSS ${up%% *} KiB; ${up#* }"
    echo "collector down: peak RSS ${down%% *} KiB; ${down#* }"
    awk -v u="${up%% *}" -v d="${down%% *}" -v b="${span_bytes:-0}" 'BEGIN { printf "difference: %+d KiB (bound: the queue, 2048 spans of %d bytes = %d KiB)\n", d - u, b, 2048 * b / 1024 }'
fi
