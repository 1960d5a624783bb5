#!/bin/sh
# run.sh - runs test binaries of one build dir, shows each one's result and
# writes the totals to BUILD/test-summary.
# usage: t/run.sh BUILD TEST_BINARY...
set -u
build=$1
shift
pass=0
fail=0
skipped=0
bad=""
for t in "$@"; do
    out=$(MHD_OTEL_BUILD=$build "$t" 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | head -n 1)
    k=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | head -n 1)
    p=${p:-0}
    f=${f:-0}
    k=${k:-0}
    skipped=$((skipped + k))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed or exited early: count the binary as one failure
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        printf '%s\n' "$out"
        printf 'FAIL %s (%s passed, %s failed, exit %s)\n' "$t" "$p" "$f" "$rc"
        bad="$bad $t"
    else
        if [ "$k" -ne 0 ]; then
            printf 'ok   %s (%s passed, %s skipped: %s)\n' "$t" "$p" "$k" \
                "$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \(test_[a-z0-9_]*\)$/\1/p' | sort -u | tr '\n' ' ')"
        else
            printf 'ok   %s (%s passed)\n' "$t" "$p"
        fi
    fi
done
echo "$pass $fail $skipped" >"$build/test-summary"
printf '%s: %d passed, %d failed, %d skipped\n' "$build" "$pass" "$fail" "$skipped"
[ "$fail" -eq 0 ]
