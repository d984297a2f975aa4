{{/* Names and labels (helm.sh chart best practices; prometheus-community layout). */}}
{{- define "anomaly-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "anomaly-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "anomaly-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "anomaly-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "anomaly-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anomaly-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "anomaly-exporter.labels" -}}
helm.sh/chart: {{ include "anomaly-exporter.chart" . }}
{{ include "anomaly-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "anomaly-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "anomaly-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "anomaly-exporter.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}{{- $repo = printf "%s/%s" .Values.image.registry $repo -}}{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The exporter config: .Values.config plus the paths of the mounted Secrets. Refuses the keys the chart
owns (shard: flags; *_file and basic_auth: `auth`), so a value cannot silently point at a file that is
not mounted.
*/}}
{{- define "anomaly-exporter.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- if hasKey $cfg "shard" -}}
{{- fail "config.shard: set `shards` instead; the chart passes --shard.index/--shard.count" -}}
{{- end -}}
{{- $prom := required "config.prometheus.url is required" $cfg.prometheus -}}
{{- $_ := required "config.prometheus.url is required" $prom.url -}}
{{- range $key := list "bearer_token_file" "basic_auth" -}}
{{- if hasKey $prom $key -}}
{{- fail (printf "config.prometheus.%s: set auth.* instead; the chart mounts the Secret and sets the path" $key) -}}
{{- end -}}
{{- end -}}
{{- $auth := .Values.auth -}}
{{- if and $auth.bearerToken.existingSecret $auth.basicAuth.existingSecret -}}
{{- fail "auth: bearerToken and basicAuth cannot both be set" -}}
{{- end -}}
{{- if $auth.bearerToken.existingSecret -}}
{{- $_ := set $prom "bearer_token_file" (printf "%s/bearer-token/%s" .Values.secretsMountPath $auth.bearerToken.key) -}}
{{- end -}}
{{- if $auth.basicAuth.existingSecret -}}
{{- $user := required "auth.basicAuth.username is required with auth.basicAuth.existingSecret" $auth.basicAuth.username -}}
{{- $_ := set $prom "basic_auth" (dict "username" $user "password_file" (printf "%s/basic-auth/%s" .Values.secretsMountPath $auth.basicAuth.key)) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The rules of files/rules/*.yml, every file's groups in one list (a PrometheusRule's spec.groups). */}}
{{- define "anomaly-exporter.ruleGroups" -}}
{{- $groups := list -}}
{{- range $path, $_ := .Files.Glob "files/rules/*.yml" -}}
{{- $doc := $.Files.Get $path | fromYaml -}}
{{- $groups = concat $groups $doc.groups -}}
{{- end -}}
{{- toYaml $groups -}}
{{- end -}}

{{/*
Secured endpoints (--web.config.file, docs/kubernetes.md "Secured endpoints"). The web config and the
certificate files share one projected volume, mounted read-only at anomaly-exporter.web.dir, so the paths
in the web config are bare file names that resolve against its folder (exporter-toolkit's rule):
  web-config.yml  the chart's ConfigMap <fullname>-web, or key web.configSecret.key of web.configSecret.name
  tls.crt/tls.key web.tls.existingSecret
  ca.crt          web.tls.clientCA.existingSecret (default: web.tls.existingSecret), key web.tls.clientCA.key,
                  only when client certificates are verified
"true" or "" (false), as Go templates have no boolean results for include.
*/}}
{{- define "anomaly-exporter.web.dir" -}}/etc/anomaly-exporter/web{{- end -}}

{{- define "anomaly-exporter.web.enabled" -}}
{{- $w := .Values.web -}}
{{- if or $w.tls.enabled $w.basicAuth.enabled $w.configSecret.name $w.headers -}}true{{- end -}}
{{- end -}}

{{/* The chart writes the web config (a ConfigMap) unless web.configSecret names one. */}}
{{- define "anomaly-exporter.web.generated" -}}
{{- if and (include "anomaly-exporter.web.enabled" .) (not .Values.web.configSecret.name) -}}true{{- end -}}
{{- end -}}

{{/* Client certificates are checked against ca.crt. */}}
{{- define "anomaly-exporter.web.verifiesClientCert" -}}
{{- if has .Values.web.tls.clientAuthType (list "VerifyClientCertIfGiven" "RequireAndVerifyClientCert") -}}true{{- end -}}
{{- end -}}

{{/* A connection without a client certificate is refused in the TLS handshake. */}}
{{- define "anomaly-exporter.web.requiresClientCert" -}}
{{- if has .Values.web.tls.clientAuthType (list "RequireAnyClientCert" "RequireAndVerifyClientCert") -}}true{{- end -}}
{{- end -}}

{{/*
Kubelet's httpGet probes send neither credentials nor a client certificate, so with basic auth or a
required client certificate they would always fail: the probes then only check that the port accepts
connections (tcpSocket).
*/}}
{{- define "anomaly-exporter.web.tcpProbes" -}}
{{- if or .Values.web.basicAuth.enabled (include "anomaly-exporter.web.requiresClientCert" .) -}}true{{- end -}}
{{- end -}}

{{/* Refuses combinations that would deploy an exporter nobody can scrape, or values that would be ignored. */}}
{{- define "anomaly-exporter.web.validate" -}}
{{- $w := .Values.web -}}
{{- if and $w.tls.enabled (not $w.tls.existingSecret) -}}
{{- fail "web.tls.existingSecret is required with web.tls.enabled (a kubernetes.io/tls Secret)" -}}
{{- end -}}
{{- if and (ne $w.tls.clientAuthType "NoClientCert") (not $w.tls.enabled) -}}
{{- fail "web.tls.clientAuthType needs web.tls.enabled" -}}
{{- end -}}
{{- if and $w.basicAuth.enabled (not $w.configSecret.name) -}}
{{- fail "web.basicAuth.enabled needs web.configSecret: basic_auth_users (bcrypt hashes) come only from a Secret you create" -}}
{{- end -}}
{{- if and $w.configSecret.name (or $w.tls.minVersion $w.tls.cipherSuites $w.headers) -}}
{{- fail "web.tls.minVersion, web.tls.cipherSuites and web.headers only build the chart's web config: with web.configSecret, write them in that file" -}}
{{- end -}}
{{- if include "anomaly-exporter.web.enabled" . -}}
{{- range .Values.extraArgs -}}
{{- if hasPrefix "--web.config.file" . -}}
{{- fail "extraArgs: --web.config.file is set by the chart from web.*" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.serviceMonitor.enabled -}}
{{- if and (include "anomaly-exporter.web.requiresClientCert" .) (not .Values.serviceMonitor.tlsConfig.clientCertSecret) -}}
{{- fail (printf "serviceMonitor.tlsConfig.clientCertSecret is required: web.tls.clientAuthType %s refuses a scrape without a client certificate" $w.tls.clientAuthType) -}}
{{- end -}}
{{- if and $w.basicAuth.enabled (not .Values.serviceMonitor.basicAuth.existingSecret) -}}
{{- fail "serviceMonitor.basicAuth.existingSecret is required with web.basicAuth.enabled (the user name and password Prometheus sends)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The generated web config (exporter-toolkit format); no secret material, only file names and settings. */}}
{{- define "anomaly-exporter.web.config" -}}
{{- $w := .Values.web -}}
{{- $cfg := dict -}}
{{- if $w.tls.enabled -}}
{{- $tls := dict "cert_file" "tls.crt" "key_file" "tls.key" -}}
{{- if ne $w.tls.clientAuthType "NoClientCert" -}}
{{- $_ := set $tls "client_auth_type" $w.tls.clientAuthType -}}
{{- end -}}
{{- if include "anomaly-exporter.web.verifiesClientCert" . -}}
{{- $_ := set $tls "client_ca_file" "ca.crt" -}}
{{- end -}}
{{- with $w.tls.minVersion -}}
{{- $_ := set $tls "min_version" . -}}
{{- end -}}
{{- with $w.tls.cipherSuites -}}
{{- $_ := set $tls "cipher_suites" . -}}
{{- end -}}
{{- $_ := set $cfg "tls_server_config" $tls -}}
{{- end -}}
{{- with $w.headers -}}
{{- $_ := set $cfg "http_server_config" (dict "headers" .) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The projected volume "web" (see anomaly-exporter.web.dir). */}}
{{- define "anomaly-exporter.web.volume" -}}
{{- $w := .Values.web -}}
- name: web
  projected:
    defaultMode: 0440
    sources:
      {{- if $w.configSecret.name }}
      - secret:
          name: {{ $w.configSecret.name }}
          items:
            - key: {{ $w.configSecret.key }}
              path: web-config.yml
      {{- else }}
      - configMap:
          name: {{ include "anomaly-exporter.fullname" . }}-web
          items:
            - key: web-config.yml
              path: web-config.yml
      {{- end }}
      {{- if $w.tls.enabled }}
      {{- $ownCA := and (include "anomaly-exporter.web.verifiesClientCert" .) (not $w.tls.clientCA.existingSecret) }}
      - secret:
          name: {{ $w.tls.existingSecret }}
          items:
            - key: tls.crt
              path: tls.crt
            - key: tls.key
              path: tls.key
            {{- if $ownCA }}
            - key: {{ $w.tls.clientCA.key }}
              path: ca.crt
            {{- end }}
      {{- if and (include "anomaly-exporter.web.verifiesClientCert" .) $w.tls.clientCA.existingSecret }}
      - secret:
          name: {{ $w.tls.clientCA.existingSecret }}
          items:
            - key: {{ $w.tls.clientCA.key }}
              path: ca.crt
      {{- end }}
      {{- end }}
{{- end -}}
