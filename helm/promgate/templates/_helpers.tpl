{{/* The chart's name, or nameOverride. */}}
{{- define "promgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The objects' name: fullnameOverride, else the release name, with the chart's name added unless the release name
holds it. 63 characters at most, DNS-1123 labels' limit.
*/}}
{{- define "promgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A name derived from the full name, kept within 63 characters: promgate.suffixed (list . "metrics"). */}}
{{- define "promgate.suffixed" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "promgate.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "promgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "promgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "promgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "promgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "promgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "promgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* k8spin's image, which its own values file names: promgate's takes its place, at the chart's appVersion. */}}
{{- define "promgate.k8spinImage" -}}ghcr.io/k8spin/prometheus-multi-tenant-proxy{{- end }}

{{- define "promgate.image" -}}
{{- if eq .Values.image.repository (include "promgate.k8spinImage" .) }}
{{- printf "promgate:%s" .Chart.AppVersion }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Gateway mode: a configuration file is given, inline or in an existing Secret or ConfigMap. */}}
{{- define "promgate.gatewayMode" -}}
{{- $g := .Values.proxy.gateway }}
{{- $given := 0 }}
{{- range (list $g.config $g.existingSecret $g.existingConfigMap) }}{{ if . }}{{ $given = add1 $given }}{{ end }}{{ end }}
{{- if gt $given 1 }}
{{- fail "proxy.gateway: give one of config, existingSecret and existingConfigMap" }}
{{- end }}
{{- if $given }}true{{ end }}
{{- end }}

{{/* The authentication methods, from proxy.auth.type ("basic", "jwt", or a chain such as "mtls,basic"). */}}
{{- define "promgate.authTypes" -}}
{{- toJson (splitList "," .Values.proxy.auth.type) }}
{{- end }}

{{/*
Whether the pod gets the users file. Basic (and client-certificate) authentication read it. In gateway mode the
configuration file can hold its own users, so the chart's users file is mounted only when it was given: users in
proxy.auth.basic.authn, or an existing Secret (createSecret false).
*/}}
{{- define "promgate.usersFile" -}}
{{- $types := include "promgate.authTypes" . | fromJsonArray }}
{{- $basic := .Values.proxy.auth.basic }}
{{- if or (has "basic" $types) (has "mtls" $types) }}
{{- if or (not (include "promgate.gatewayMode" .)) $basic.authn (not $basic.createSecret) }}true{{ end }}
{{- end }}
{{- end }}

{{- define "promgate.usersSecretName" -}}
{{- if .Values.proxy.auth.basic.createSecret }}
{{- include "promgate.fullname" . }}
{{- else }}
{{- .Values.proxy.auth.basic.secretName }}
{{- end }}
{{- end }}

{{/*
The files the pod mounts, each a whole Secret or ConfigMap as a directory (never subPath: kubelet updates a subPath
mount only when the pod restarts, and promgate re-reads its files as they change). A list of
{name, dir, secret | configMap, keys}; keys absent: every key of the object.
*/}}
{{- define "promgate.mounts" -}}
{{- $p := .Values.proxy }}
{{- $jwt := $p.auth.jwt }}
{{- $tls := $p.tls }}
{{- $m := list }}
{{- if include "promgate.usersFile" . }}
{{- $m = append $m (dict "name" "users" "dir" "/etc/promgate/users" "secret" (include "promgate.usersSecretName" .) "keys" (list "authn.yaml")) }}
{{- end }}
{{- with $jwt.jwks.existingSecret }}
{{- $m = append $m (dict "name" "jwks" "dir" "/etc/promgate/jwks" "secret" . "keys" (list $jwt.jwks.key)) }}
{{- end }}
{{- with $jwt.jwks.existingConfigMap }}
{{- $m = append $m (dict "name" "jwks" "dir" "/etc/promgate/jwks" "configMap" . "keys" (list $jwt.jwks.key)) }}
{{- end }}
{{- with $jwt.publicKey.existingSecret }}
{{- $m = append $m (dict "name" "jwt-public-key" "dir" "/etc/promgate/jwt-public-key" "secret" . "keys" (list $jwt.publicKey.key)) }}
{{- end }}
{{- if $p.gateway.config }}
{{- $m = append $m (dict "name" "gateway" "dir" "/etc/promgate/gateway" "secret" (include "promgate.suffixed" (list . "gateway")) "keys" (list $p.gateway.key)) }}
{{- end }}
{{- with $p.gateway.existingSecret }}
{{- $m = append $m (dict "name" "gateway" "dir" "/etc/promgate/gateway" "secret" . "keys" (list $p.gateway.key)) }}
{{- end }}
{{- with $p.gateway.existingConfigMap }}
{{- $m = append $m (dict "name" "gateway" "dir" "/etc/promgate/gateway" "configMap" . "keys" (list $p.gateway.key)) }}
{{- end }}
{{- with $tls.server.secretName }}
{{- $m = append $m (dict "name" "tls-server" "dir" "/etc/promgate/tls/server" "secret" . "keys" (list "tls.crt" "tls.key")) }}
{{- end }}
{{- with $tls.server.clientCASecret }}
{{- $m = append $m (dict "name" "tls-client-ca" "dir" "/etc/promgate/tls/client-ca" "secret" . "keys" (list $tls.server.clientCAKey)) }}
{{- end }}
{{- with $tls.webConfig.existingSecret }}
{{- $m = append $m (dict "name" "web-config" "dir" "/etc/promgate/tls/web-config" "secret" .) }}
{{- end }}
{{- with $tls.upstream.caSecret }}
{{- $m = append $m (dict "name" "upstream-ca" "dir" "/etc/promgate/tls/upstream-ca" "secret" . "keys" (list $tls.upstream.caKey)) }}
{{- end }}
{{- with $tls.upstream.clientSecret }}
{{- $m = append $m (dict "name" "upstream-client" "dir" "/etc/promgate/tls/upstream-client" "secret" . "keys" (list "tls.crt" "tls.key")) }}
{{- end }}
{{- toJson $m }}
{{- end }}

{{/* The path in the pod of a mounted file: promgate.file (list . "users" "authn.yaml"). */}}
{{- define "promgate.file" -}}
{{- $mount := index . 1 }}
{{- $file := index . 2 }}
{{- range include "promgate.mounts" (index . 0) | fromJsonArray }}
{{- if eq .name $mount }}{{ printf "%s/%s" .dir $file }}{{ end }}
{{- end }}
{{- end }}

{{/*
Whether the gateway's own port serves HTTPS: in k8spin mode from the TLS flags the chart passes; in gateway mode from
the file's server.tls (an inline file is read here; a file from an existing object is taken to name the mounted
certificate when proxy.tls.server.secretName is given).
*/}}
{{- define "promgate.https" -}}
{{- $p := .Values.proxy }}
{{- if include "promgate.gatewayMode" . }}
{{- if $p.gateway.config }}
{{- if dig "server" "tls" "" (include "promgate.gatewayFile" . | fromJson) }}true{{ end }}
{{- else if $p.tls.server.secretName }}true{{ end }}
{{- else if or $p.tls.server.secretName $p.tls.webConfig.existingSecret }}true{{ end }}
{{- end }}

{{/* The inline gateway file, parsed (as JSON, since include returns text). */}}
{{- define "promgate.gatewayFile" -}}
{{- $file := fromYaml .Values.proxy.gateway.config }}
{{- if hasKey $file "Error" }}
{{- fail (printf "proxy.gateway.config is not YAML: %s" $file.Error) }}
{{- end }}
{{- toJson $file }}
{{- end }}

{{/*
--auth-config: the users file for basic (and for every chain with basic or mtls), a JWKS URL or file for jwt alone,
nothing when only a JWT secret or public key is given.
*/}}
{{- define "promgate.authConfig" -}}
{{- $jwt := .Values.proxy.auth.jwt }}
{{- if include "promgate.usersFile" . }}
{{- include "promgate.file" (list . "users" "authn.yaml") }}
{{- else if $jwt.url }}
{{- $jwt.url }}
{{- else if or $jwt.jwks.existingSecret $jwt.jwks.existingConfigMap }}
{{- include "promgate.file" (list . "jwks" $jwt.jwks.key) }}
{{- end }}
{{- end }}

{{/*
What the flags would refuse at start-up, and what promgate would silently not do, refused at install time instead.
*/}}
{{- define "promgate.checks" -}}
{{- $p := .Values.proxy }}
{{- $types := include "promgate.authTypes" . | fromJsonArray }}
{{- $jwt := $p.auth.jwt }}
{{- $jwks := or $jwt.jwks.existingSecret $jwt.jwks.existingConfigMap }}
{{- $tls := $p.tls }}
{{- $gateway := include "promgate.gatewayMode" . }}
{{- if and $jwt.url $jwks }}
{{- fail "proxy.auth.jwt: give url or jwks, not both" }}
{{- end }}
{{- if and $jwt.jwks.existingSecret $jwt.jwks.existingConfigMap }}
{{- fail "proxy.auth.jwt.jwks: give existingSecret or existingConfigMap, not both" }}
{{- end }}
{{- if and (has "jwt" $types) (include "promgate.usersFile" .) (or $jwt.url $jwks) }}
{{- fail (printf "proxy.auth.type %s: the users file takes --auth-config, so JWTs need proxy.auth.jwt.secret or .publicKey, not a JWKS" $p.auth.type) }}
{{- end }}
{{- if and (has "jwt" $types) (not $gateway) (not (or $jwt.url $jwks $jwt.secret.existingSecret $jwt.publicKey.existingSecret)) }}
{{- fail "proxy.auth.type jwt needs proxy.auth.jwt.url, .jwks, .secret or .publicKey" }}
{{- end }}
{{- if and $tls.server.secretName $tls.webConfig.existingSecret }}
{{- fail "proxy.tls: give server or webConfig, not both" }}
{{- end }}
{{- if and $p.aws.roleArn (not .Values.serviceAccount.create) }}
{{- fail "proxy.aws.roleArn annotates the chart's ServiceAccount: with serviceAccount.create false, annotate your own" }}
{{- end }}
{{- if not $gateway }}
{{- if and (has "mtls" $types) (not $tls.webConfig.existingSecret) }}
{{- if not (and $tls.server.secretName $tls.server.clientCASecret (has $tls.server.clientAuth (list "RequireAndVerifyClientCert" "VerifyClientCertIfGiven"))) }}
{{- fail "proxy.auth.type mtls needs proxy.tls.server.secretName, .clientCASecret and .clientAuth RequireAndVerifyClientCert or VerifyClientCertIfGiven (or proxy.tls.webConfig)" }}
{{- end }}
{{- end }}
{{- if and (or $tls.upstream.caSecret $tls.upstream.clientSecret $tls.upstream.serverName) (not (hasPrefix "https://" $p.prometheusEndpoint)) }}
{{- fail "proxy.tls.upstream needs an https proxy.prometheusEndpoint" }}
{{- end }}
{{- else }}
{{- /* Gateway mode takes no TLS or AWS flags (promgate would ignore the first and refuses the second): its file does it. */}}
{{- if $p.aws.enabled }}
{{- fail "proxy.aws.enabled is k8spin mode's --aws: in gateway mode each component's sigv4 block signs (proxy.aws.region and .roleArn still apply)" }}
{{- end }}
{{- if or $tls.webConfig.existingSecret $tls.server.clientAuth $tls.server.minVersion $tls.upstream.serverName }}
{{- fail "proxy.tls.webConfig, .server.clientAuth, .server.minVersion and .upstream.serverName are k8spin mode's flags: in gateway mode the file's server.tls and each component's tls_config say them" }}
{{- end }}
{{- if and $tls.server.secretName $p.gateway.config (not (include "promgate.https" .)) }}
{{- fail "proxy.tls.server.secretName in gateway mode only mounts the certificate: the file serves HTTPS with server: {tls: {cert_file: /etc/promgate/tls/server/tls.crt, key_file: /etc/promgate/tls/server/tls.key}}" }}
{{- end }}
{{- end }}
{{- end }}
