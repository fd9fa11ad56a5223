{{/*
Stand-in for the official Apache Airflow chart 1.19.0 (see README.md): helpers reproducing what
the official chart's helpers render for the values the airflow role produces. Nothing here is
random: every checksum is over this chart's own rendered templates.
*/}}

{{- define "airflow.fullname" -}}
{{- if .Values.useStandardNaming -}}
{{- fail "stand-in airflow chart: useStandardNaming is not reproduced" -}}
{{- else if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name -}}
{{- end -}}
{{- end -}}

{{/* The labels every object carries; call with (list $ "component"), "" for none. */}}
{{- define "airflow.labels" -}}
{{- $root := index . 0 -}}
tier: airflow
{{- if index . 1 }}
component: {{ index . 1 }}
{{- end }}
release: {{ $root.Release.Name }}
chart: "{{ $root.Chart.Name }}-{{ $root.Chart.Version }}"
heritage: {{ $root.Release.Service }}
{{- with $root.Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "airflow.selector" -}}
{{- $root := index . 0 -}}
tier: airflow
component: {{ index . 1 }}
release: {{ $root.Release.Name }}
{{- end -}}

{{- define "airflow.celery" -}}
{{- if or (contains "CeleryExecutor" .Values.executor) (contains "CeleryKubernetesExecutor" .Values.executor) -}}true{{- end -}}
{{- end -}}

{{- define "airflow.kubernetesExecutor" -}}
{{- if contains "KubernetesExecutor" .Values.executor -}}true{{- end -}}
{{- end -}}

{{- define "airflow.image" -}}
{{- $repo := .Values.images.airflow.repository | default .Values.defaultAirflowRepository -}}
{{- if .Values.images.airflow.digest -}}
{{ $repo }}@{{ .Values.images.airflow.digest }}
{{- else -}}
{{ $repo }}:{{ .Values.images.airflow.tag | default .Values.defaultAirflowTag }}
{{- end -}}
{{- end -}}

{{- define "airflow.migrationImage" -}}
{{- if .Values.images.useDefaultImageForMigration -}}
{{ .Values.defaultAirflowRepository }}:{{ .Values.defaultAirflowTag }}
{{- else -}}
{{ include "airflow.image" . }}
{{- end -}}
{{- end -}}

{{- define "airflow.dagsMountPath" -}}
{{- .Values.dags.mountPath | default (printf "%s/dags" .Values.airflowHome) -}}
{{- end -}}

{{/* The dags folder airflow.cfg names (the official "airflow_dags" helper). */}}
{{- define "airflow_dags" -}}
{{- if .Values.dags.gitSync.enabled -}}
{{ include "airflow.dagsMountPath" . }}/repo/{{ .Values.dags.gitSync.subPath }}
{{- else if .Values.dags.persistence.subPath -}}
{{ include "airflow.dagsMountPath" . }}/{{ .Values.dags.persistence.subPath }}
{{- else -}}
{{ include "airflow.dagsMountPath" . }}
{{- end -}}
{{- end -}}

{{- define "dag_bundle_config_list" -}}
{{- $bundles := list -}}
{{- range .Values.dagProcessor.dagBundleConfigList -}}
{{- $bundles = append $bundles (dict "name" .name "classpath" .classpath "kwargs" (.kwargs | default dict)) -}}
{{- end -}}
{{- toJson $bundles -}}
{{- end -}}

{{- define "cpu_count" -}}
{{- if . -}}
{{- if hasSuffix "m" (toString .) -}}
{{- max 1 (div (trimSuffix "m" (toString .) | int) 1000) -}}
{{- else -}}
{{- toString . | float64 | ceil | int -}}
{{- end -}}
{{- else -}}
0
{{- end -}}
{{- end -}}

{{- define "airflow_config" -}}{{ include "airflow.fullname" . }}-config{{- end -}}
{{- define "airflow_pod_template_file" -}}{{ .Values.airflowHome }}/pod_templates{{- end -}}

{{- define "airflow.logsClaim" -}}
{{- .Values.logs.persistence.existingClaim | default (printf "%s-logs" (include "airflow.fullname" .)) -}}
{{- end -}}

{{- define "airflow.podSecurityContext" -}}
runAsUser: {{ .Values.uid }}
fsGroup: {{ .Values.gid }}
{{- end -}}

{{- define "airflow.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "airflow.imagePullSecrets" -}}
{{- if or .Values.registry.secretName .Values.registry.connection }}
imagePullSecrets:
  - name: {{ .Values.registry.secretName | default (printf "%s-registry" (include "airflow.fullname" .)) }}
{{- else if .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml .Values.imagePullSecrets | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "airflow.affinity" -}}
{{- $root := index . 0 -}}
{{- $own := index . 2 -}}
{{- if or $own $root.Values.affinity }}
{{- toYaml (or $own $root.Values.affinity) }}
{{- else }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - podAffinityTerm:
        labelSelector:
          matchLabels:
            component: {{ index . 1 }}
        topologyKey: kubernetes.io/hostname
      weight: 100
{{- end }}
{{- end -}}

{{/* Secret names the values name, or the chart's own Secrets (created only with the key inline). */}}
{{- define "airflow.fernetKeySecret" -}}{{ .Values.fernetKeySecretName | default (printf "%s-fernet-key" (include "airflow.fullname" .)) }}{{- end -}}
{{- define "airflow.apiSecretKeySecret" -}}{{ .Values.apiSecretKeySecretName | default (printf "%s-api-secret-key" (include "airflow.fullname" .)) }}{{- end -}}
{{- define "airflow.jwtSecret" -}}{{ .Values.jwtSecretName | default (printf "%s-jwt-secret" (include "airflow.fullname" .)) }}{{- end -}}
{{- define "airflow.metadataSecret" -}}
{{- .Values.data.metadataSecretName | required "stand-in airflow chart: set data.metadataSecretName (the official chart would build a Secret from data.metadataConnection)" -}}
{{- end -}}
{{- define "airflow.resultBackendSecret" -}}
{{- .Values.data.resultBackendSecretName | required "stand-in airflow chart: set data.resultBackendSecretName" -}}
{{- end -}}
{{- define "airflow.brokerUrlSecret" -}}
{{- .Values.data.brokerUrlSecretName | required "stand-in airflow chart: set data.brokerUrlSecretName" -}}
{{- end -}}

{{- define "airflow.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
{{- end -}}

{{/* The official "standard_airflow_environment" for these values. */}}
{{- define "airflow.standardEnv" -}}
{{ include "airflow.secretEnv" (list "AIRFLOW__CORE__FERNET_KEY" (include "airflow.fernetKeySecret" .) "fernet-key") }}
- name: AIRFLOW_HOME
  value: {{ .Values.airflowHome }}
{{ include "airflow.secretEnv" (list "AIRFLOW__CORE__SQL_ALCHEMY_CONN" (include "airflow.metadataSecret" .) "connection") }}
{{ include "airflow.secretEnv" (list "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" (include "airflow.metadataSecret" .) "connection") }}
{{ include "airflow.secretEnv" (list "AIRFLOW_CONN_AIRFLOW_DB" (include "airflow.metadataSecret" .) "connection") }}
{{- if semverCompare ">=3.0.0" .Values.airflowVersion }}
{{ include "airflow.secretEnv" (list "AIRFLOW__API__SECRET_KEY" (include "airflow.apiSecretKeySecret" .) "api-secret-key") }}
{{ include "airflow.secretEnv" (list "AIRFLOW__API_AUTH__JWT_SECRET" (include "airflow.jwtSecret" .) "jwt-secret") }}
{{- end }}
{{- if include "airflow.celery" . }}
{{ include "airflow.secretEnv" (list "AIRFLOW__CELERY__CELERY_RESULT_BACKEND" (include "airflow.resultBackendSecret" .) "connection") }}
{{ include "airflow.secretEnv" (list "AIRFLOW__CELERY__RESULT_BACKEND" (include "airflow.resultBackendSecret" .) "connection") }}
{{ include "airflow.secretEnv" (list "AIRFLOW__CELERY__BROKER_URL" (include "airflow.brokerUrlSecret" .) "connection") }}
{{- end }}
{{- with .Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "airflow.configMounts" -}}
- name: config
  mountPath: {{ .Values.airflowHome }}/airflow.cfg
  subPath: airflow.cfg
  readOnly: true
- name: config
  mountPath: {{ .Values.airflowHome }}/config/airflow_local_settings.py
  subPath: airflow_local_settings.py
  readOnly: true
{{- end -}}

{{- define "airflow.dagsMount" -}}
- name: dags
  mountPath: {{ include "airflow.dagsMountPath" . }}
  {{- if .Values.dags.persistence.subPath }}
  subPath: {{ .Values.dags.persistence.subPath }}
  {{- end }}
  readOnly: true
{{- end -}}

{{/* wait-for-airflow-migrations; call with (list $ withLogsMount). */}}
{{- define "airflow.waitForMigrations" -}}
{{- $root := index . 0 -}}
- name: wait-for-airflow-migrations
  resources: {}
  image: {{ include "airflow.migrationImage" $root }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  securityContext: {{- include "airflow.containerSecurityContext" $root | nindent 4 }}
  volumeMounts:
    {{- if index . 1 }}
    - name: logs
      mountPath: {{ $root.Values.airflowHome }}/logs
    {{- end }}
    {{- include "airflow.configMounts" $root | nindent 4 }}
  args:
    - airflow
    - db
    - check-migrations
    - --migration-wait-timeout={{ $root.Values.images.migrationsWaitTimeout }}
  envFrom: []
  env: {{- include "airflow.standardEnv" $root | nindent 4 }}
{{- end -}}

{{/* The git-sync container; call with (list $ isInit). */}}
{{- define "airflow.gitSync" -}}
{{- $root := index . 0 -}}
{{- $g := $root.Values.dags.gitSync -}}
- name: {{ $g.containerName }}{{ if index . 1 }}-init{{ end }}
  image: {{ $root.Values.images.gitSync.repository }}:{{ $root.Values.images.gitSync.tag }}
  imagePullPolicy: {{ $root.Values.images.gitSync.pullPolicy }}
  securityContext:
    runAsUser: {{ $g.uid }}
  envFrom: []
  env:
    {{- if $g.credentialsSecret }}
    {{- range list "GIT_SYNC_USERNAME" "GITSYNC_USERNAME" "GIT_SYNC_PASSWORD" "GITSYNC_PASSWORD" }}
    {{- include "airflow.secretEnv" (list . $g.credentialsSecret .) | nindent 4 }}
    {{- end }}
    {{- end }}
    - name: GIT_SYNC_REV
      value: {{ $g.rev | quote }}
    - name: GITSYNC_REF
      value: {{ $g.ref | quote }}
    - name: GIT_SYNC_BRANCH
      value: {{ $g.branch | quote }}
    - name: GIT_SYNC_REPO
      value: {{ $g.repo | quote }}
    - name: GITSYNC_REPO
      value: {{ $g.repo | quote }}
    - name: GIT_SYNC_DEPTH
      value: {{ $g.depth | quote }}
    - name: GITSYNC_DEPTH
      value: {{ $g.depth | quote }}
    - name: GIT_SYNC_ROOT
      value: "/git"
    - name: GITSYNC_ROOT
      value: "/git"
    - name: GIT_SYNC_DEST
      value: "repo"
    - name: GITSYNC_LINK
      value: "repo"
    - name: GIT_SYNC_ADD_USER
      value: "true"
    - name: GITSYNC_ADD_USER
      value: "true"
    - name: GITSYNC_PERIOD
      value: {{ $g.period | quote }}
    - name: GIT_SYNC_MAX_SYNC_FAILURES
      value: {{ $g.maxFailures | quote }}
    - name: GITSYNC_MAX_FAILURES
      value: {{ $g.maxFailures | quote }}
    {{- if index . 1 }}
    - name: GIT_SYNC_ONE_TIME
      value: "true"
    - name: GITSYNC_ONE_TIME
      value: "true"
    {{- end }}
  resources: {}
  volumeMounts:
    - name: dags
      mountPath: /git
{{- end -}}

{{/* The log groomer sidecar; call with (list $ "component" valuesOfTheComponent). */}}
{{- define "airflow.logGroomer" -}}
{{- $root := index . 0 -}}
{{- $groomer := (index . 2).logGroomerSidecar -}}
- name: {{ index . 1 }}-log-groomer
  resources: {}
  image: {{ include "airflow.image" $root }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  securityContext: {{- include "airflow.containerSecurityContext" $root | nindent 4 }}
  args: {{- toYaml $groomer.args | nindent 4 }}
  env:
    - name: AIRFLOW__LOG_RETENTION_DAYS
      value: {{ $groomer.retentionDays | quote }}
    - name: AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES
      value: {{ $groomer.frequencyMinutes | quote }}
    - name: AIRFLOW_HOME
      value: {{ $root.Values.airflowHome }}
  volumeMounts:
    - name: logs
      mountPath: {{ $root.Values.airflowHome }}/logs
{{- end -}}

{{/* The airflow pods' volumes; call with (list $ withDags logsFromClaimTemplate). */}}
{{- define "airflow.volumes" -}}
{{- $root := index . 0 -}}
- name: config
  configMap:
    name: {{ include "airflow_config" $root }}
{{- if index . 1 }}
{{- if $root.Values.dags.persistence.enabled }}
- name: dags
  persistentVolumeClaim:
    claimName: {{ $root.Values.dags.persistence.existingClaim | default (printf "%s-dags" (include "airflow.fullname" $root)) }}
{{- else if $root.Values.dags.gitSync.enabled }}
- name: dags
  emptyDir: {{- toYaml ($root.Values.dags.gitSync.emptyDirConfig | default dict) | nindent 4 }}
{{- end }}
{{- end }}
{{- if $root.Values.logs.persistence.enabled }}
- name: logs
  persistentVolumeClaim:
    claimName: {{ include "airflow.logsClaim" $root }}
{{- else if not (index . 2) }}
- name: logs
  emptyDir: {{- toYaml ($root.Values.logs.emptyDirConfig | default dict) | nindent 4 }}
{{- end }}
{{- end -}}

{{/* Pod-template checksums, keyed as the official chart keys them: sha256 of this chart's own
     rendered templates (deterministic); templates the stand-in does not have hash as empty. */}}
{{- define "airflow.checksums" -}}
{{- $root := index . 0 -}}
{{- range rest . }}
{{- if eq . "airflow-config" }}
checksum/{{ . }}: {{ include (print $root.Template.BasePath "/configmaps.yaml") $root | sha256sum }}
{{- else if eq . "jwt-secret" }}
checksum/{{ . }}: {{ include (print $root.Template.BasePath "/secrets.yaml") $root | sha256sum }}
{{- else }}
checksum/{{ . }}: {{ "" | sha256sum }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod template labels: the selector plus <component>.labels merged over the global labels; call with (list $ "component" componentLabels). */}}
{{- define "airflow.podLabels" -}}
{{- $root := index . 0 -}}
{{ include "airflow.selector" (list $root (index . 1)) }}
{{- if or $root.Values.labels (index . 2) }}
{{ mustMerge (deepCopy (index . 2 | default dict)) $root.Values.labels | toYaml }}
{{- end }}
{{- end -}}
