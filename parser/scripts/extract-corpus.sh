#!/usr/bin/env bash
# Regenerates parser/test/corpus/*.jsonl from a Prometheus source checkout (see parser/test/corpus/README.md).
#   parser/scripts/extract-corpus.sh PROMETHEUS_CHECKOUT          rewrite the committed files
#   parser/scripts/extract-corpus.sh --check PROMETHEUS_CHECKOUT  only compare, exit 1 if they would change
# Needs Go (Debian: apt-get install golang-go); uses its standard library only, and compiles nothing of Prometheus.
set -euo pipefail

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: $0 [--check] PROMETHEUS_CHECKOUT" >&2
  exit 2
fi
checkout=$1
corpus="$(dirname "$0")/../test/corpus"
program="$(dirname "$0")/extract-corpus.go"

for f in parse_test.go printer_test.go lex_test.go functions.go; do
  [ -f "$checkout/promql/parser/$f" ] || { echo "$checkout/promql/parser/$f is missing: not a Prometheus checkout?" >&2; exit 2; }
done
command -v go >/dev/null || { echo "needs Go (Debian: apt-get install golang-go)" >&2; exit 2; }

if git -C "$checkout" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  echo "Prometheus commit $(git -C "$checkout" rev-parse HEAD)" >&2
fi

if $check; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  go run "$program" -prometheus "$checkout" -out "$out"
  status=0
  for f in promql-parse.jsonl promql-print.jsonl promql-lex.jsonl; do
    if cmp -s "$out/$f" "$corpus/$f"; then
      echo "$f: unchanged" >&2
    else
      echo "$f: differs" >&2
      diff "$corpus/$f" "$out/$f" | head -20 >&2 || true
      status=1
    fi
  done
  exit $status
fi

go run "$program" -prometheus "$checkout" -out "$corpus"
