#!/bin/sh
# npm_ci.sh - installs the npm packages pinned by SRC/package-lock.json into
# DEST (a build directory), only when the lock file changed since the last
# install. SRC is never written. The OTLP sink and the conformance test use it.
# usage: sh t/npm_ci.sh SRC DEST WHAT   (WHAT names the user in messages)
set -u
[ $# -eq 3 ] || {
    echo "usage: sh t/npm_ci.sh SRC DEST WHAT" >&2
    exit 2
}
src=$1
dest=$2
what=$3
command -v npm >/dev/null 2>&1 || {
    echo "npm_ci.sh: npm not found ($what needs Node.js >= 18.19 and npm)" >&2
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
    echo "npm_ci.sh: npm ci --omit=dev --prefix $dest failed ($what)" >&2
    exit 1
fi
touch "$dest/node_modules"
