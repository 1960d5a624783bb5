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
    command -v npm >/dev/null 2>&1 || {
        echo "sink.sh: npm not found (the OTLP tests need Node.js >= 18.19 and npm)" >&2
        exit 1
    }
    mkdir -p "$dest" || exit 1
    for f in package.json package-lock.json; do
        # Copied only when changed; the mtime of the source is kept, so that
        # node_modules is compared with when the lock file last changed.
        if ! cmp -s "$src/$f" "$dest/$f"; then
            rm -f "$dest/$f" && cp "$src/$f" "$dest/$f" && chmod u+w "$dest/$f" &&
                touch -r "$src/$f" "$dest/$f" || exit 1
        fi
    done
    if [ -d "$dest/node_modules" ] && [ ! "$dest/package-lock.json" -nt "$dest/node_modules" ]; then
        exit 0
    fi
    log=$dest/npm-ci.log
    if ! npm ci --omit=dev --no-audit --no-fund --loglevel=error --prefix "$dest" >"$log" 2>&1; then
        cat "$log" >&2
        echo "sink.sh: npm ci --omit=dev --prefix $dest failed" >&2
        exit 1
    fi
    touch "$dest/node_modules"
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
