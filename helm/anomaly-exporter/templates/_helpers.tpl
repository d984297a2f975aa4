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
