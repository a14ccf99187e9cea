#!/usr/bin/env bash
# Regenerates the values table of helm/promgate/README.md from values.yaml's @param comments.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/@bitnami/readme-generator-for-helm ] || npm ci --no-audit --no-fund --loglevel=error
node node_modules/@bitnami/readme-generator-for-helm/bin/index.js --values ../promgate/values.yaml --readme ../promgate/README.md
