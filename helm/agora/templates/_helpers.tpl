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

{{- define "agora.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agora.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agora.labels" -}}
helm.sh/chart: {{ include "agora.chart" . }}
{{ include "agora.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agora
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
