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
    sh "$src/../npm_ci.sh" "$src" "$dest" "the conformance test" || exit 1
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
