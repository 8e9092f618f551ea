#!/usr/bin/env bash
# The checks of the packaging for where users run it (Helm chart, Kubernetes manifests, OpenWrt package,
# install.sh, winget/Scoop/Homebrew manifests), run by scripts/test.sh: scripts/dist_check/ (its sections:
# kube.py, openwrt.py, install.py, manifests.py), in a venv under target/ with pinned PyPI packages:
#   helm-python-sdk      real Helm (v4.2.3's Go SDK, bound through ctypes; x86_64 Linux wheel, ~75 MB) to
#                        render and lint the chart: the helm CLI is not in Debian 12
#   kubernetes-validate  the Kubernetes object schemas (1.25 to 1.37) and their validator
#   jsonschema, PyYAML   the winget and Scoop schemas (vendored in packaging/schemas), YAML
# and from Debian: ruby (ruby -c on the Homebrew formula), busybox (the init script and install.sh under
# BusyBox sh and its wget), shellcheck, make.
#   bash scripts/dist-check.sh [helm|kubernetes|openwrt|install|manifests ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/apt.sh
missing_packages ruby busybox shellcheck make python3-venv
apt_install "${MISSING[@]}"

venv=target/dist-check-venv
pins=(helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.4)
stamp="$venv/.pins"
if [ "$(cat "$stamp" 2>/dev/null)" != "${pins[*]}" ]; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
  # The wheel ships libhelm_c.so three times (85 MB each, as .so, .so.0 and .so.0.2.2; the first found is
  # loaded): the two others become links to it.
  lib=$(echo "$venv"/lib/python3*/site-packages/helm_python/lib)
  for f in "$lib"/libhelm_c.so.0 "$lib"/libhelm_c.so; do
    if [ -f "$f" ] && [ ! -L "$f" ] && [ -f "$lib/libhelm_c.so.0.2.2" ]; then ln -sf libhelm_c.so.0.2.2 "$f"; fi
  done
  echo "${pins[*]}" > "$stamp"
fi
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" scripts/dist_check "$@"
