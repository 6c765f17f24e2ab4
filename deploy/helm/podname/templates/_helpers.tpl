{{/* podname.fullname is the name of every namespaced object: the release's, or podname-<release>. */}}
{{- define "podname.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Chart.Name .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* podname.clusterName names the cluster-scoped RBAC objects, unique per release and apart
from deploy/base's system:podname, so the chart and the kustomize ways can share a cluster. */}}
{{- define "podname.clusterName" -}}
{{- printf "podname:%s:%s" .Release.Namespace (include "podname.fullname" .) -}}
{{- end -}}

{{- define "podname.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "podname.labels" -}}
{{ include "podname.selectorLabels" . }}
app.kubernetes.io/part-of: podname
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "podname.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "podname.fullname" .) -}}
{{- end -}}
