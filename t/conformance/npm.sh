#!/bin/sh
# npm.sh - installs the official OpenTelemetry JavaScript propagators pinned by
# t/conformance/package-lock.json into a build directory, and runs the
# conformance comparison (compare.js) with them.
# usage: sh t/conformance/npm.sh install BUILD     npm ci into BUILD/conformance when needed
#        sh t/conformance/npm.sh run BUILD ARGS...  node compare.js BUILD/t/propagate ARGS
#                                                  (--show, vector ids: see compare.js)
set -u

usage() {
    echo "usage: sh t/conformance/npm.sh install BUILD | run BUILD [--show] [ID...]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
build=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd) || exit 1
dest=$build/conformance

case $cmd in
install)
    command -v npm >/dev/null 2>&1 || {
        echo "npm.sh: npm not found (the conformance test needs Node.js >= 18.19 and npm)" >&2
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
        echo "npm.sh: npm ci --omit=dev --prefix $dest failed" >&2
        exit 1
    fi
    touch "$dest/node_modules"
    ;;
run)
    if [ ! -d "$dest/node_modules" ]; then
        echo "npm.sh: $dest/node_modules is missing; run: sh t/conformance/npm.sh install $build" >&2
        exit 1
    fi
    modules=$(cd "$dest/node_modules" && pwd) || exit 1
    NODE_PATH=$modules exec node "$src/compare.js" "$build/t/propagate" "$@"
    ;;
*)
    usage
    ;;
esac
