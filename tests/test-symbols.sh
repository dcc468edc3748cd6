#!/bin/sh
# test-symbols.sh: the shared library exports exactly its public API.
#
# The library is built with -fvisibility=hidden and every public
# declaration carries SS_API (include/socketserver/api.h). This compares,
# both ways, the names the public headers declare with SS_API (after the
# preprocessor, so macro-made declarations such as the combinations count)
# with the dynamic symbols libsocketserver.so defines. An internal ss__
# function that leaks out, or a declared function that the library does not
# define, fails the test with the names.
set -eu

builddir=${SS_BUILDDIR:-.}
srcdir=${SS_SRCDIR:-.}
lib=$builddir/.libs/libsocketserver.so
CC=${CC:-cc}

if [ ! -e "$lib" ]; then
    echo "SKIP: no shared library at $lib (a --disable-shared build)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: every SS_API declaration, joined onto one line each.
# shellcheck disable=SC2086
printf '#include <socketserver/socketserver.h>\n#include <socketserver/http.h>\n' \
  | $CC -E -P -x c -I"$srcdir/include" $(${PKG_CONFIG:-pkg-config} --cflags glib-2.0) \
      -D'SS_API=SS_EXPORTED_DECLARATION' - \
  | tr '\n' ' ' | sed 's/;/;\n/g' | grep 'SS_EXPORTED_DECLARATION' \
  | sed -e 's/.*SS_EXPORTED_DECLARATION//' -e 's/(.*//' -e 's/;.*//' -e 's/\[.*//' \
  | awk '{ print $NF }' | tr -d '*' | sort -u > "$tmp/declared"

# Defined and exported: functions (T), data (D, R, B) of the library itself.
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBV]$/ { print $3 }' \
  | grep -v '^_' | sort -u > "$tmp/exported"

status=0
if ! [ -s "$tmp/declared" ]; then
    echo "FAIL: found no SS_API declaration in the public headers"
    exit 1
fi
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ]; then
    echo "FAIL: exported but not declared with SS_API in include/socketserver/:"
    echo "$extra" | sed 's/^/    /'
    status=1
fi
if [ -n "$missing" ]; then
    echo "FAIL: declared with SS_API but not exported by $lib:"
    echo "$missing" | sed 's/^/    /'
    status=1
fi
# g_autoptr for every public type with a free or unref function: each
# `ss_NAME_free (SsType *` or `ss_NAME_unref (SsType *` declared has its
# G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsType, ss_NAME_free) in the headers.
cat "$srcdir"/include/socketserver/*.h | tr '\n' ' ' | sed 's/;/;\n/g' \
  | sed -n 's/.*SS_API *void *\(ss_[a-z0-9_]*_\(free\|unref\)\) *( *\(Ss[A-Za-z0-9]*\) *\*[^,]*).*/\3 \1/p' \
  | sort -u > "$tmp/freeable"
if ! [ -s "$tmp/freeable" ]; then
    echo "FAIL: found no ss_*_free declaration in the public headers"
    status=1
fi
while read -r type free; do
    if ! cat "$srcdir"/include/socketserver/*.h | tr -d ' ' \
         | grep -qF "G_DEFINE_AUTOPTR_CLEANUP_FUNC($type,$free)"; then
        echo "FAIL: $type has $free but no G_DEFINE_AUTOPTR_CLEANUP_FUNC ($type, $free)"
        status=1
    fi
done < "$tmp/freeable"
echo "$(wc -l < "$tmp/freeable") types with g_autoptr"
echo "$(wc -l < "$tmp/declared") declared, $(wc -l < "$tmp/exported") exported"
exit $status
