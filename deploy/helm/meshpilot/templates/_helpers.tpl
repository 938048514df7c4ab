{{/* The chart's name, or nameOverride. */}}
{{- define "meshpilot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: fullnameOverride, else <release>-<chart>, or the
release name alone when it already contains the chart's name.
*/}}
{{- define "meshpilot.fullname" -}}
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

{{/* chart-version, as the helm.sh/chart label. */}}
{{- define "meshpilot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "meshpilot.labels" -}}
helm.sh/chart: {{ include "meshpilot.chart" . }}
{{ include "meshpilot.selectorLabels" . }}
app.kubernetes.io/version: {{ include "meshpilot.tag" . | quote }}
app.kubernetes.io/component: analyzer
app.kubernetes.io/part-of: meshpilot
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select meshpilot's pod: never change them in an upgrade. */}}
{{- define "meshpilot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshpilot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meshpilot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshpilot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshpilot.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "meshpilot.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "meshpilot.tag" .) }}
{{- end }}

{{/* The ConfigMap holding the guardrail policy. */}}
{{- define "meshpilot.policyConfigMap" -}}
{{- .Values.policy.existingConfigMap | default (printf "%s-policy" (include "meshpilot.fullname" .)) }}
{{- end }}
