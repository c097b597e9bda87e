{{/* Object name prefix: "<release>-switchforge", or fullnameOverride. */}}
{{- define "switchforge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "switchforge" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-switchforge" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "switchforge.labels" -}}
app.kubernetes.io/name: switchforge
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "switchforge.selector" -}}
app.kubernetes.io/name: switchforge
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "switchforge.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The audio workers' image: the same plus the Python environment (images/Containerfile.audio). */}}
{{- define "switchforge.audioImage" -}}
{{- .Values.audio.worker.image | default (printf "%s-audio:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion)) -}}
{{- end -}}

{{- define "switchforge.databaseSecret" -}}
{{- required "database.existingSecret: name the Secret that holds the PostgreSQL DSN" .Values.database.existingSecret -}}
{{- end -}}

{{/* Tolerations that leave a lost node quickly, then the user's. */}}
{{- define "switchforge.tolerations" -}}
- key: node.kubernetes.io/not-ready
  operator: Exists
  effect: NoExecute
  tolerationSeconds: {{ .root.Values.failover.tolerationSeconds }}
- key: node.kubernetes.io/unreachable
  operator: Exists
  effect: NoExecute
  tolerationSeconds: {{ .root.Values.failover.tolerationSeconds }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Replicas spread over nodes, so one lost node takes at most one of them. */}}
{{- define "switchforge.spread" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "switchforge.selector" (dict "ctx" .ctx "component" .component) | nindent 12 }}
{{- end -}}

{{/* Environment shared by the operator and the API: identity and telemetry. */}}
{{- define "switchforge.commonEnv" -}}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: NODE_NAME
  valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
- name: SWITCHFORGE_METRICS_PORT
  value: {{ .Values.telemetry.prometheus.port | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),k8s.node.name=$(NODE_NAME)%s" (ternary (printf ",%s" .Values.telemetry.resourceAttributes) "" (ne .Values.telemetry.resourceAttributes "")) | quote }}
{{- with .Values.telemetry.otlp.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Temporal, for the operator (the audio pool's workers get it from the operator). */}}
{{- define "switchforge.temporalEnv" -}}
{{- if .Values.temporal.enabled }}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required when temporal.enabled" .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS_CA_FILE
  value: /var/run/switchforge/temporal-tls/ca.crt
- name: TEMPORAL_TLS_CERT_FILE
  value: /var/run/switchforge/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY_FILE
  value: /var/run/switchforge/temporal-tls/tls.key
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "switchforge.temporalTlsVolume" -}}
{{- if and .Values.temporal.enabled .Values.temporal.tls.enabled }}
- name: temporal-tls
  secret:
    secretName: {{ required "temporal.tls.secretName is required when temporal.tls.enabled" .Values.temporal.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "switchforge.temporalTlsMount" -}}
{{- if and .Values.temporal.enabled .Values.temporal.tls.enabled }}
- name: temporal-tls
  mountPath: /var/run/switchforge/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Where audio is stored, for every component that opens it (operator, API). */}}
{{- define "switchforge.audioStorageEnv" -}}
- name: AUDIO_STORAGE_MODE
  value: {{ .Values.audio.storageMode | quote }}
{{- if eq .Values.audio.storageMode "object" }}
{{- with .Values.audio.objectStorage }}
- name: AUDIO_S3_ENDPOINT
  value: {{ .endpoint | quote }}
- name: AUDIO_S3_BUCKET
  value: {{ .bucket | quote }}
- name: AUDIO_S3_REGION
  value: {{ .region | quote }}
- name: AUDIO_S3_FORCE_PATH_STYLE
  value: {{ .forcePathStyle | quote }}
- name: AUDIO_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .credentialsSecret }}
      key: {{ .accessKeyIdKey }}
- name: AUDIO_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .credentialsSecret }}
      key: {{ .secretAccessKeyKey }}
{{- end }}
{{- end }}
{{- end }}
