#!/bin/sh
# test-manpages.sh: the installed programs' --version, --help and manual
# pages agree with each other and with the package.
#
# For each program in servers/ that has a manual page (docs/man/PROG.1):
# - `PROG --version` prints "PROG (libsocketserver) VERSION" and exits 0;
# - every long option `PROG --help` lists appears in the manual page (as
#   roff writes it, \-\-name), so an option added to a program without its
#   manual page fails here;
# - every option that takes a value says its default in --help (checked on
#   GOption's one-line form, --name=VALUE; argparse's help wraps);
# - the page's .TH line names this version.
set -eu

builddir=${SS_BUILDDIR:-.}
srcdir=${SS_SRCDIR:-.}
version=${SS_VERSION:?SS_VERSION is set by make check}
failures=0

fail () {
    echo "not ok: $*"
    failures=$((failures + 1))
}

checked=0
for page in "$srcdir"/docs/man/*.1; do
    prog=$(basename "$page" .1)
    bin=$builddir/servers/$prog
    if [ ! -x "$bin" ]; then
        fail "$prog: the manual page $page has no program at $bin"
        continue
    fi
    checked=$((checked + 1))

    out=$("$bin" --version) || fail "$prog --version exited $?"
    [ "$out" = "$prog (libsocketserver) $version" ] \
        || fail "$prog --version printed '$out', not '$prog (libsocketserver) $version'"

    grep -q "^\.TH .*\"libsocketserver $version\"" "$page" \
        || fail "$page: its .TH line does not name libsocketserver $version"

    help=$("$bin" --help) || fail "$prog --help exited $?"
    # Every long option on the lines that list options (GOption's
    # "  -t, --transport=NAME" and argparse's "  -b ADDRESS, --bind ADDRESS").
    options=$(printf '%s\n' "$help" | grep -E '^ +-' \
        | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | sed 's/^[ ,]*--//' | sort -u)
    [ -n "$options" ] || fail "$prog --help lists no options"
    for name in $options; do
        [ "$name" = help ] && continue
        sed 's/\\-/-/g' "$page" | grep -qF -- "--$name" || fail "$prog: --$name is in --help but not in $page"
    done
    # An option with a value (--name=VALUE) names its default.
    printf '%s\n' "$help" | grep -E '^  +(-[A-Za-z], )?--[a-z0-9-]+=' | while IFS= read -r line; do
        printf '%s\n' "$line" | grep -qi 'default' || echo "$prog: no default in: $line"
    done > no-default.$$
    if [ -s no-default.$$ ]; then
        fail "$(cat no-default.$$)"
    fi
    rm -f no-default.$$
    echo "ok: $prog ($(printf '%s\n' "$options" | wc -l) options)"
done

[ "$checked" -gt 0 ] || fail "no manual page found in $srcdir/docs/man"
[ "$failures" -eq 0 ]
