# shellcheck shell=bash
# Sourced by the scripts that install Debian packages (test.sh, windows-check.sh, static-build.sh,
# container-check.sh, dist-check.sh):
#   missing_packages PKG...   sets MISSING to those of PKG not installed
#   apt_install PKG...        installs them, non-interactively, quietly
# A Debian mirror in the middle of a sync answers with index files of the wrong size ("File has unexpected
# size ... Mirror sync in progress?") and `apt-get update` exits 100: one landing failed that way on the
# armhf index the static build's foreign architectures add. So the update is tried up to four times, 20 s
# apart, and a last failure is only a warning: the indexes already fetched (or the old ones) usually hold
# the packages. The install itself is tried twice, with an update in between; its failure is fatal.

SUDO=${SUDO-}
if [ -z "$SUDO" ] && [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

missing_packages() {
  MISSING=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$p")
  done
}

apt_update() {
  local try
  for try in 1 2 3 4; do
    if $SUDO apt-get update -qq; then return 0; fi
    if [ "$try" -lt 4 ]; then
      echo "apt-get update failed (try $try of 4); trying again in ${APT_RETRY_PAUSE:-20} s" >&2
      sleep "${APT_RETRY_PAUSE:-20}"
    fi
  done
  echo "warning: apt-get update kept failing; installing from the indexes apt has" >&2
  return 0
}

apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "installing: $*" >&2
  apt_update
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    echo "apt-get install failed; updating the indexes and trying once more" >&2
    sleep "${APT_RETRY_PAUSE:-20}"
    apt_update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}
