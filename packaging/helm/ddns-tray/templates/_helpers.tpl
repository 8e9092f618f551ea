{{/* Names: the release name when it already says ddns-tray, else "<release>-ddns-tray"; at most 63 characters. */}}
{{- define "ddns-tray.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ddns-tray.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ddns-tray.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ddns-tray.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ddns-tray.secretName" -}}
{{- .Values.existingSecret | default (include "ddns-tray.fullname" .) -}}
{{- end -}}

{{- define "ddns-tray.secretKey" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecretKey }}{{- else -}}config.toml{{- end -}}
{{- end -}}

{{/*
The config: exactly one of `config` and `existingSecret`; an inline config must be TOML and turn the metrics
listener on where the probes reach it (every refusal names the value and the fix).
*/}}
{{- define "ddns-tray.validate" -}}
{{- if and .Values.config .Values.existingSecret -}}
{{- fail "set either config (the whole config.toml) or existingSecret (a Secret holding it), not both" -}}
{{- end -}}
{{- if not (or .Values.config .Values.existingSecret) -}}
{{- fail "no config: set config to the whole config.toml (--set-file config=config.toml) or existingSecret to a Secret with key config.toml" -}}
{{- end -}}
{{- if .Values.config -}}
{{- $c := fromToml .Values.config -}}
{{- if $c.Error -}}
{{- fail (printf "config is not valid TOML: %s" $c.Error) -}}
{{- end -}}
{{- $m := dig "metrics" (dict) $c -}}
{{- $listen := dig "listen" "" $m | toString -}}
{{- $want := printf ":%d" (int .Values.metrics.port) -}}
{{- if not $listen -}}
{{- fail (printf "config: [metrics] listen is not set; the probes ask /health there: add [metrics] listen = \"0.0.0.0%s\" and allow_remote = true" $want) -}}
{{- end -}}
{{- if not (hasSuffix $want $listen) -}}
{{- fail (printf "config: [metrics] listen = %q is not on metrics.port %d: make them the same port" $listen (int .Values.metrics.port)) -}}
{{- end -}}
{{- if or (hasPrefix "127." $listen) (hasPrefix "[::1]" $listen) (hasPrefix "localhost:" $listen) -}}
{{- fail (printf "config: [metrics] listen = %q is loopback, which the kubelet's probes cannot reach: use \"0.0.0.0%s\" (or \"[::]%s\") with allow_remote = true" $listen $want $want) -}}
{{- end -}}
{{- if ne (dig "allow_remote" false $m | toString) "true" -}}
{{- fail "config: [metrics] allow_remote = true is needed for a listener the kubelet's probes can reach (ddns-tray refuses a non-loopback listen without it)" -}}
{{- end -}}
{{- if hasKey $m "token" -}}
{{- fail "config: [metrics] token is set, so /health needs a bearer token the kubelet's probes cannot send: remove the token and limit who reaches the port with a NetworkPolicy" -}}
{{- end -}}
{{- end -}}
{{- end -}}
