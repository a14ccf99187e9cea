#!/bin/sh
# Builds parser/promql_parser.wasm reproducibly with Debian's Rust toolchain (rustc 1.63, wasm32 std from
# libstd-rust-dev-wasm32) and Debian's binaryen (wasm-opt): the same sources give the same bytes on any machine with
# those packages, in any directory.
#   scripts/build.sh           build and replace promql_parser.wasm
#   scripts/build.sh --check   build a copy of the sources elsewhere and fail when it differs from promql_parser.wasm
#   scripts/build.sh --head    build the sources as committed (git HEAD), ignoring uncommitted changes, and replace it
set -eu
PARSER_DIR=$(cd "$(dirname "$0")/.." && pwd)
WASM=promql_parser.wasm
TARGET=wasm32-unknown-unknown
RUSTC=/usr/bin/rustc
CARGO=/usr/bin/cargo
WASM_OPT=/usr/bin/wasm-opt
# -O3: a few percent faster enforce() and a sixth smaller than LLVM's output alone; fixed flags, so a fixed output.
WASM_OPT_FLAGS="-O3"

for tool in "$RUSTC" "$CARGO" "$WASM_OPT"; do
  [ -x "$tool" ] || { echo "build.sh: $tool missing: apt-get install rustc cargo libstd-rust-dev-wasm32 binaryen" >&2; exit 1; }
done
toolchain() { echo "$("$RUSTC" --version), $("$CARGO" --version), $("$WASM_OPT" --version)"; }

# build SOURCE_DIR OUT_FILE: compiles the crate in SOURCE_DIR (its own target/ dir) and writes the module to OUT_FILE.
build() {
  src=$1 out=$2
  # Paths that could end up in the module (panic locations, debug info) are remapped to fixed names;
  # Debian's std is already built under /usr/src/rustc-<version>.
  (cd "$src" && RUSTC=$RUSTC CARGO_TARGET_DIR="$src/target" \
    RUSTFLAGS="--remap-path-prefix=$src=/promql-parser --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo -C strip=debuginfo" \
    "$CARGO" build --offline --quiet --release --target $TARGET)
  "$WASM_OPT" $WASM_OPT_FLAGS "$src/target/$TARGET/release/$WASM" -o "$out"
}

case "${1:-}" in
  "")
    build "$PARSER_DIR" "$PARSER_DIR/$WASM"
    echo "built $PARSER_DIR/$WASM ($(wc -c < "$PARSER_DIR/$WASM") bytes, sha256 $(sha256sum "$PARSER_DIR/$WASM" | cut -c1-16))"
    ;;
  --head)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$PARSER_DIR" && git archive --format=tar HEAD -- Cargo.toml Cargo.lock src) | tar -x -C "$tmp"
    build "$tmp" "$PARSER_DIR/$WASM"
    last=$(cd "$PARSER_DIR" && git log -1 --format=%h HEAD -- Cargo.toml Cargo.lock src)
    echo "built $PARSER_DIR/$WASM from the sources of $last ($(sha256sum "$PARSER_DIR/$WASM" | cut -c1-16))"
    ;;
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/promql-parser"
    cp -R "$PARSER_DIR/Cargo.toml" "$PARSER_DIR/src" "$tmp/promql-parser/"
    [ ! -f "$PARSER_DIR/Cargo.lock" ] || cp "$PARSER_DIR/Cargo.lock" "$tmp/promql-parser/"
    build "$tmp/promql-parser" "$tmp/$WASM"
    if cmp -s "$tmp/$WASM" "$PARSER_DIR/$WASM"; then
      echo "promql_parser.wasm is reproducible: a fresh build is identical ($(sha256sum "$tmp/$WASM" | cut -c1-16))"
    else
      echo "promql_parser.wasm differs from a fresh build of src/ with $(toolchain):" >&2
      echo "run parser/scripts/build.sh and commit the result" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 [--check | --head]" >&2
    exit 2
    ;;
esac
