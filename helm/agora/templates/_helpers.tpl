{{/* Chart name, overridable. */}}
{{- define "agora.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "agora.fullname" -}}
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

{{- define "agora.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Every pod of the release: the serving replicas, the hook Jobs, the CronJob, the test pod. */}}
{{- define "agora.releaseLabels" -}}
app.kubernetes.io/name: {{ include "agora.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The serving replicas only: the Deployment's selector, and so the Service's, the PDB's, the HPA's
and the ServiceMonitor's. Other pods of the release carry another component, so the PDB and
the HPA never count a migration, retention or test pod. (Chart 0.2.0 added the component to the
selector; selectors are immutable, see docs/operations.md for the upgrade.)
*/}}
{{- define "agora.selectorLabels" -}}
{{ include "agora.releaseLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of every object, without a component (each template adds its own). */}}
{{- define "agora.commonLabels" -}}
helm.sh/chart: {{ include "agora.chart" . }}
{{ include "agora.releaseLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agora
{{- end }}

{{/* Labels of the serving objects (Deployment, Service, ConfigMaps, Secrets, ...). */}}
{{- define "agora.labels" -}}
{{ include "agora.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "agora.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agora.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "agora.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Secret holding AGORA_DATABASE_URL, and its key. */}}
{{- define "agora.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "agora.fullname" .) }}
{{- end }}
{{- end }}

{{- define "agora.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
database-url
{{- end }}
{{- end }}

{{/* Fails the render early when no database is configured. */}}
{{- define "agora.requireDatabase" -}}
{{- if and (not .Values.database.url) (not .Values.database.existingSecret) }}
{{- fail "set database.url or database.existingSecret (AGORA_DATABASE_URL)" }}
{{- end }}
{{- end }}

{{/* The chart's secret for git credentials given as content. */}}
{{- define "agora.gitSecretName" -}}
{{- printf "%s-git" (include "agora.fullname" .) }}
{{- end }}

{{/* True (non-empty) when any git credential comes from content. */}}
{{- define "agora.gitSecretNeeded" -}}
{{- $g := .Values.gitCredentials }}
{{- if or (and $g.netrc.content (not $g.netrc.existingSecret)) (and $g.sshKey.content (not $g.sshKey.existingSecret)) (and $g.knownHosts.content (not $g.knownHosts.existingSecret)) }}true{{ end }}
{{- end }}

{{/* Pod-level securityContext, shared by the Deployment and the migration Job. */}}
{{- define "agora.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* AGORA_DATABASE_URL from its Secret. */}}
{{- define "agora.databaseEnv" -}}
- name: AGORA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "agora.databaseSecretName" . }}
      key: {{ include "agora.databaseSecretKey" . }}
{{- end }}

{{/* The object store's endpoint and region (AWS_*), when set. */}}
{{- define "agora.objectStorageEnv" -}}
{{- with .Values.objectStorage.endpoint }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.objectStorage.region }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The object store's keys, from a Secret, when one is named. */}}
{{- define "agora.objectStorageEnvFrom" -}}
{{- with .Values.objectStorage.existingSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}

{{/* Where the policy rules ConfigMap is mounted (a directory, so kubelet updates reach it). */}}
{{- define "agora.policyDir" -}}/etc/agora/policy{{- end }}

{{/* The ConfigMap holding the rules file, or "" when there are no rules. */}}
{{- define "agora.policyConfigMap" -}}
{{- $p := .Values.config.policy }}
{{- if $p.existingConfigMap }}
{{- $p.existingConfigMap }}
{{- else if $p.rules }}
{{- printf "%s-policy" (include "agora.fullname" .) }}
{{- end }}
{{- end }}

{{/* AGORA_POLICY__RULES_FILE: the mounted rules file, or "" (no rules). */}}
{{- define "agora.policyRulesFile" -}}
{{- if include "agora.policyConfigMap" . }}
{{- printf "%s/rules.toml" (include "agora.policyDir" .) }}
{{- end }}
{{- end }}

{{/* Where config.tls.existingSecret is mounted. */}}
{{- define "agora.tlsDir" -}}/etc/agora/tls{{- end }}

{{/* HTTPS when the pod serves TLS, else HTTP (probes, ServiceMonitor). */}}
{{- define "agora.scheme" -}}
{{- if .Values.config.tls.existingSecret }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/* The port of a URL: explicit, else 443 for https and 80 for http. */}}
{{- define "agora.urlPort" -}}
{{- $u := urlParse . }}
{{- $hostport := splitList ":" $u.host }}
{{- if gt (len $hostport) 1 }}{{ last $hostport }}{{ else if eq $u.scheme "https" }}443{{ else }}80{{ end }}
{{- end }}

{{/* Fails the render when the readiness probe would give up before agora's own timeout. */}}
{{- define "agora.checkReadiness" -}}
{{- $ms := int .Values.config.database.readinessTimeoutMs }}
{{- if le (mul (int .Values.probes.readiness.timeoutSeconds) 1000) $ms }}
{{- fail (printf "probes.readiness.timeoutSeconds (%d s) must exceed config.database.readinessTimeoutMs (%d ms): /readyz would time out in the kubelet first and the pod flap out of the Service" (int .Values.probes.readiness.timeoutSeconds) $ms) }}
{{- end }}
{{- end }}

{{/* Fails the render when otel.protocol and the endpoint's well-known port disagree. */}}
{{- define "agora.checkOtel" -}}
{{- with .Values.otel.endpoint }}
{{- $port := include "agora.urlPort" . }}
{{- if and (eq $.Values.otel.protocol "grpc") (eq $port "4318") }}
{{- fail "otel.protocol is grpc but otel.endpoint uses 4318, the OTLP/HTTP port (gRPC is 4317)" }}
{{- end }}
{{- if and (eq $.Values.otel.protocol "http/protobuf") (eq $port "4317") }}
{{- fail "otel.protocol is http/protobuf but otel.endpoint uses 4317, the OTLP/gRPC port (HTTP is 4318)" }}
{{- end }}
{{- end }}
{{- end }}
