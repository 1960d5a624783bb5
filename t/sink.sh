#!/bin/sh
# sink.sh - installs the independent OTLP receiver (../shared/otlp-sink, a
# sibling of the repository) into a build directory and runs it; the OTLP
# integration tests receive their spans with it. ../shared is never written.
# usage: sh t/sink.sh install BUILD      npm ci into BUILD/otlp-sink when needed
#        sh t/sink.sh run BUILD ARGS...  exec the sink with ARGS (see its README)
set -u

usage() {
    echo "usage: sh t/sink.sh install BUILD | run BUILD ARGS..." >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
build=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd) || exit 1
src=$root/../shared/otlp-sink
dest=$build/otlp-sink
if [ ! -f "$src/sink.js" ]; then
    echo "sink.sh: no sink at $src/sink.js" >&2
    exit 1
fi

case $cmd in
install)
    sh "$root/t/npm_ci.sh" "$src" "$dest" "the OTLP tests" || exit 1
    ;;
run)
    if [ ! -d "$dest/node_modules" ]; then
        echo "sink.sh: $dest/node_modules is missing; run: sh t/sink.sh install $build" >&2
        exit 1
    fi
    modules=$(cd "$dest/node_modules" && pwd) || exit 1
    NODE_PATH=$modules exec node "$src/sink.js" "$@"
    ;;
*)
    usage
    ;;
esac
