#!/bin/sh
# gtkdoc.sh: builds the HTML API reference from the public headers with
# gtk-doc, and fails when a public symbol is undocumented or a tool warns.
# `make docs` runs it (docs/reference/reference.am); by hand:
#
#   SRCDIR=/path/to/source OUTDIR=reference CC=cc GLIB_CFLAGS="$(pkg-config --cflags glib-2.0)" \
#     sh docs/reference/gtkdoc.sh
#
# Why gtk-doc: the headers already speak its dialect -- "Returns: (transfer
# full)", @param, GError conventions -- as GLib-era C libraries do, and it
# reads plain C headers. gi-docgen needs a GObject-introspection .gir,
# which this library (plain C structs and vtables, no GObject types) has
# not; Doxygen knows neither transfer annotations nor gtk-doc's comment
# format. Debian ships gtk-doc-tools (quickstart.sh installs it).
#
# Steps, all under $OUTDIR (nothing is written to the source tree, so it
# works in an out-of-tree build and in `make distcheck`):
#  1. gtkdoc-scan reads a copy of the headers in which combinations.h's
#     SS_DECLARE_COMBINATION lines are expanded into the declarations they
#     make (gtkdoc-scan does not expand macros); the comments are read
#     from the real headers.
#  2. The sections file is made from what gtkdoc-scan found (one section
#     per header, named after it), so a symbol added to a header is in the
#     reference -- and must be documented -- without a list to keep.
#     Names beginning with ss__/SS__ are internal (Private).
#  3. Every SS_API name the preprocessor sees in the headers (as
#     tests/test-symbols.sh counts them) must be one gtkdoc-scan found.
#  4. gtkdoc-mkdb, gtkdoc-mkhtml, gtkdoc-fixxref (links to GLib's reference,
#     Debian's libglib2.0-doc); any line a tool prints fails the build.
#  5. socketserver-undocumented.txt must say 0 not documented and 0
#     incomplete; -undeclared.txt and -unused.txt (comments for names no
#     header declares) must be empty. Each failure names the symbols.
set -eu

: "${SRCDIR:?}" "${OUTDIR:?}"
CC=${CC:-cc}
GLIB_CFLAGS=${GLIB_CFLAGS:-}
VERSION=${VERSION:-}
MODULE=socketserver
HEADERS_DIR=$SRCDIR/include/socketserver
REF_DIR=$SRCDIR/docs/reference
# GLib's own gtk-doc reference (Debian's libglib2.0-doc), for the links to
# GError, g_free() and the like.
GLIB_HTML_DIR=${GLIB_HTML_DIR:-/usr/share/gtk-doc/html/glib}

for tool in gtkdoc-scan gtkdoc-mkdb gtkdoc-mkhtml gtkdoc-fixxref xsltproc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make docs: $tool not found: install gtk-doc-tools (apt-get install gtk-doc-tools) and re-run configure" >&2
    exit 1
  fi
done

if [ ! -f "$GLIB_HTML_DIR/glib.devhelp2" ]; then
  echo "make docs: GLib's reference is not at $GLIB_HTML_DIR (links to GError etc.): install libglib2.0-doc, or set GLIB_HTML_DIR" >&2
  exit 1
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
# A fresh run each time: gtk-doc keeps state in its files otherwise.
rm -rf "$OUTDIR/scan-src" "$OUTDIR/xml" "$OUTDIR/html" "$OUTDIR"/$MODULE-* "$OUTDIR/logs"
mkdir -p "$OUTDIR/scan-src" "$OUTDIR/html" "$OUTDIR/logs"
cd "$OUTDIR"

failed=0
fail () { echo "make docs: $*" >&2; failed=1; }

# run NAME CMD...: runs a tool with its output in logs/NAME.log; fails
# (after printing it) when it exits non-zero or prints anything.
run () {
  name=$1
  shift
  if ! "$@" >"logs/$name.log" 2>&1; then
    cat "logs/$name.log" >&2
    echo "make docs: $name failed (log: $OUTDIR/logs/$name.log)" >&2
    exit 1
  fi
  # The gtk-doc tools print nothing when all is well: any line is a warning.
  if grep -q '[^[:space:]]' "logs/$name.log"; then
    cat "logs/$name.log" >&2
    fail "$name printed warnings (log: $OUTDIR/logs/$name.log)"
  fi
}

# 1. The headers for the scanner, with the combination macros expanded.
cp "$HEADERS_DIR"/*.h scan-src/
awk '
  # The macro body: the lines after "#define SS_DECLARE_COMBINATION(prefix)".
  /^#define SS_DECLARE_COMBINATION\(prefix\)/ { inbody = 1; print; next }
  inbody { body = body $0 "\n"; print; if ($0 !~ /\\$/) inbody = 0; next }
  /^SS_DECLARE_COMBINATION *\(/ {
    prefix = $0
    sub(/^SS_DECLARE_COMBINATION *\( */, "", prefix)
    sub(/ *\).*/, "", prefix)
    decl = body
    gsub(/\\\n/, "\n", decl)
    gsub(/ss_##prefix##_/, "ss_" prefix "_", decl)
    printf "%s", decl
    next
  }
  { print }
' "$HEADERS_DIR/combinations.h" > scan-src/combinations.h
# api.h's "#ifndef SS_API / #define SS_API" looks like an include guard to
# gtkdoc-scan, which would then not list SS_API: the copy drops the #ifndef.
sed -e '/^#ifndef SS_API$/d' -e '/^#endif$/d' "$HEADERS_DIR/api.h" > scan-src/api.h
grep -q '^ *SS_API SsServer \*ss_threading_tcp_server_new' scan-src/combinations.h \
  || fail "the expansion of SS_DECLARE_COMBINATION in combinations.h found no declaration"

run scan gtkdoc-scan --module=$MODULE --source-dir="$OUTDIR/scan-src" --output-dir="$OUTDIR" \
  --ignore-decorators='SS_API|G_GNUC_PRINTF\(.*\)'

# 2. The sections: gtkdoc-scan's list, one section per header. A type
# forward-declared in server.h (SsStrategy, SsHandlerClass) is listed under
# both headers; it stays in the one its name contains (strategy, handler).
awk '
  /^<SECTION>/ { n_sec++; next }
  /^<FILE>/ { file[n_sec] = $0; sub(/<FILE>/, "", file[n_sec]); sub(/<\/FILE>/, "", file[n_sec]); next }
  /^<TITLE>|^<\/SECTION>|^$|^<SUBSECTION/ { next }
  {
    sym = $0; n = ++count[n_sec]; syms[n_sec, n] = sym
    key = tolower(sym); gsub(/_/, "", key)
    f = file[n_sec]; gsub(/[-_]/, "", f)
    if (!(sym in home) || index(key, f) > 0) home[sym] = n_sec
  }
  END {
    for (s = 1; s <= n_sec; s++) {
      shown = 0
      for (i = 1; i <= count[s]; i++) if (home[syms[s, i]] == s) shown++
      if (shown == 0) continue   # socketserver.h: only includes
      printf "<SECTION>\n<FILE>%s</FILE>\n", file[s]
      priv = ""
      for (i = 1; i <= count[s]; i++) {
        sym = syms[s, i]
        if (home[sym] != s) continue
        if (sym ~ /^(ss__|SS__)/) priv = priv sym "\n"; else print sym
      }
      if (priv != "") printf "<SUBSECTION Private>\n%s", priv
      printf "</SECTION>\n\n"
    }
  }
' $MODULE-decl-list.txt > $MODULE-sections.txt

# Every header's section must be in the book.
sed "s/@VERSION@/$VERSION/g" "$REF_DIR/$MODULE-docs.xml" > $MODULE-docs.xml
for f in $(sed -n 's/^<FILE>\(.*\)<\/FILE>$/\1/p' $MODULE-sections.txt); do
  grep -q "href=\"xml/$f.xml\"" $MODULE-docs.xml \
    || fail "include/socketserver/$f.h has no chapter: add <xi:include href=\"xml/$f.xml\"/> to docs/reference/$MODULE-docs.xml"
done

# 3. What the library exports, by the preprocessor, against what the scanner saw.
# shellcheck disable=SC2086
for h in "$HEADERS_DIR"/*.h; do echo "#include <socketserver/${h##*/}>"; done \
  | $CC -E -P -x c -I"$SRCDIR/include" $GLIB_CFLAGS -D'SS_API=SS_EXPORTED_DECLARATION' - \
  | tr '\n' ' ' | sed 's/;/;\n/g' | grep 'SS_EXPORTED_DECLARATION' \
  | sed -e 's/.*SS_EXPORTED_DECLARATION//' -e 's/(.*//' -e 's/;.*//' -e 's/\[.*//' \
  | awk '{ print $NF }' | tr -d '*' | sort -u > logs/exported.txt
grep -v '^<' $MODULE-decl-list.txt | sort -u > logs/scanned.txt
[ -s logs/exported.txt ] || fail "found no SS_API declaration in the headers"
unseen=$(comm -23 logs/exported.txt logs/scanned.txt)
[ -z "$unseen" ] || fail "SS_API declarations gtkdoc-scan did not see (so not documented):
$unseen"

# 4. DocBook, HTML, links.
run mkdb gtkdoc-mkdb --module=$MODULE --output-format=xml --xml-mode \
  --source-dir="$HEADERS_DIR" --source-suffixes=h \
  --main-sgml-file=$MODULE-docs.xml --name-space=ss
(cd html && gtkdoc-mkhtml --path="$OUTDIR" $MODULE "$OUTDIR/$MODULE-docs.xml" \
   >"$OUTDIR/logs/mkhtml.log" 2>&1) \
  || { cat logs/mkhtml.log >&2; echo "make docs: gtkdoc-mkhtml failed" >&2; exit 1; }
# gtkdoc-mkhtml prints nothing when all is well ("For acronym ... no value
# found" and xsltproc's complaints are warnings).
if grep -q '[^[:space:]]' logs/mkhtml.log; then
  cat logs/mkhtml.log >&2
  fail "gtkdoc-mkhtml printed warnings (log: $OUTDIR/logs/mkhtml.log)"
fi
# --html-dir names a prefix other than GLib's, so that fixxref writes
# absolute links to GLib's pages (file:/usr/share/gtk-doc/html/glib/...):
# the reference is read from the build directory, not installed beside them.
run fixxref gtkdoc-fixxref --module=$MODULE --module-dir=html \
  --html-dir="$OUTDIR/share/gtk-doc/html/$MODULE" --extra-dir="$GLIB_HTML_DIR"

# 5. Coverage.
undoc=$MODULE-undocumented.txt
if ! grep -q '^0 not documented\.$' $undoc || ! grep -q '^0 symbols incomplete\.$' $undoc; then
  cat $undoc >&2
  fail "public symbols are undocumented or incompletely documented (above; $OUTDIR/$undoc)"
fi
for f in $MODULE-undeclared.txt $MODULE-unused.txt; do
  if [ -s "$f" ]; then
    cat "$f" >&2
    fail "$f: documentation for names no header declares or no section lists (above)"
  fi
done

[ "$failed" -eq 0 ] || exit 1
echo "make docs: $(sed -n 2p $undoc) -> $OUTDIR/html/index.html"
