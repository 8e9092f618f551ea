#!/usr/bin/env bash
# Builds the ddns-tray image FROM scratch for each architecture asked for, from the static binaries of
# scripts/static-build.sh, and a multi-arch manifest over them.
#
#   bash packaging/container/build.sh [--release] [--tag NAME] [ARCH...]
#
# ARCH: amd64 (default), arm64, arm (armv7, hard float), or `all`. Images are tagged NAME-ARCH (NAME default
# localhost/ddns-tray:<version>) and the manifest NAME lists them, as does NAME's repository with the tag `latest`.
# Podman as root with the vfs storage driver (overlay is not available on every kernel this runs on): set
# PODMAN_STORAGE to use another driver. Nothing is pulled: FROM scratch, and the binary, the CA bundle and
# the data directory come from this machine. The image names are printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

release=()
name=""
arches=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) release=(--release) ;;
    --tag) name=$2; shift ;;
    all) arches+=(amd64 arm64 arm) ;;
    amd64|arm64|arm) arches+=("$1") ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "container build: unknown argument $1 (ARCH: amd64, arm64, arm or all)" >&2; exit 2 ;;
  esac
  shift
done
[ "${#arches[@]}" -gt 0 ] || arches=(amd64)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
name=${name:-localhost/ddns-tray:$version}

. scripts/lib/apt.sh
missing_packages podman buildah ca-certificates binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf
apt_install "${MISSING[@]}"
podman=(podman --storage-driver "${PODMAN_STORAGE:-vfs}")

target_of() {
  case "$1" in
    amd64) echo "x86_64-unknown-linux-musl x86_64-linux-gnu linux/amd64" ;;
    arm64) echo "aarch64-unknown-linux-musl aarch64-linux-gnu linux/arm64" ;;
    arm) echo "armv7-unknown-linux-musleabihf arm-linux-gnueabihf linux/arm/v7" ;;
  esac
}

ctx=$repo/target/static/image
rm -rf "$ctx"
mkdir -p "$ctx/data"
cp packaging/container/Containerfile "$ctx/Containerfile"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
images=()
for arch in "${arches[@]}"; do
  read -r target gnu platform < <(target_of "$arch")
  bin=$(bash scripts/static-build.sh "${release[@]}" "$target")
  mkdir -p "$ctx/bin/$arch"
  # Symbols stripped (release builds already are): the image carries what runs, nothing else.
  "/usr/bin/$gnu-strip" -o "$ctx/bin/$arch/ddns-tray" "$bin"
  image="$name-$arch"
  echo "== image $image ($platform, binary $(stat -c %s "$ctx/bin/$arch/ddns-tray") bytes)" >&2
  "${podman[@]}" build --quiet --format docker --platform "$platform" --build-arg "TARGETARCH=$arch" \
    -t "$image" -f "$ctx/Containerfile" "$ctx" >&2
  images+=("$image")
done
for list in "$name" "${name%:*}:latest"; do
  "${podman[@]}" manifest rm "$list" >/dev/null 2>&1 || true
  "${podman[@]}" manifest create "$list" >/dev/null
  for image in "${images[@]}"; do
    "${podman[@]}" manifest add "$list" "containers-storage:$image" >/dev/null
  done
done
printf '%s\n' "${images[@]}"
echo "== manifest $name: ${arches[*]}" >&2
