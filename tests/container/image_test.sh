#!/usr/bin/env bash
# The container image end to end: build the Dockerfile with podman, run it --read-only on the host
# network against a real Prometheus on loopback, and check that it serves /metrics, becomes ready and
# runs as the image's non-root user (10650). CTest label `container`, left out of `make test` because a
# build compiles the whole exporter in the image; run it with `make test-container`.
#   usage: tests/container/image_test.sh <source dir> <work dir>
# Exits 77 (CTest SKIP_RETURN_CODE), saying why, when no container engine can run here; any other
# failure is a failure.
#
# Offline, `FROM debian:12-slim` cannot be pulled. When the image is missing it is made from a Debian 12
# minbase root: the tarball in $ANOMALY_DEBIAN_ROOTFS_TAR if set, else `debootstrap --variant=minbase
# bookworm` from the apt mirror, then `podman import`ed under that name.
#
# Sandboxes without CAP_SYS_RESOURCE, or with a cgroup v2 hierarchy mounted beside v1 (crun: "cgroups in
# hybrid mode not supported"), cannot run podman's defaults. So containers run with --cgroups=disabled
# and ulimits no higher than this shell's, and, as root with a hybrid mount, the script re-runs itself
# in a private mount namespace with /sys/fs/cgroup/unified unmounted (the host's mounts are untouched).
# The image builds with --isolation=chroot, which needs no OCI runtime.
set -euo pipefail

src=${1:?usage: image_test.sh <source dir> <work dir>}
work=${2:?usage: image_test.sh <source dir> <work dir>}
image=localhost/anomaly-exporter:container-test
skip() { echo "SKIP: $*" >&2; exit 77; }

command -v podman >/dev/null || skip "podman is not installed (apt-get install podman)"

if [ "$(id -u)" -eq 0 ] && [ -z "${ANOMALY_CONTAINER_UNSHARED:-}" ] &&
   grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts &&
   [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
  command -v unshare >/dev/null || skip "cgroup v1+v2 hybrid mount and no unshare to hide it from crun"
  ANOMALY_CONTAINER_UNSHARED=1 exec unshare -m sh -c \
    'umount /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
fi

mkdir -p "$work"
hard_n=$(ulimit -Hn); hard_u=$(ulimit -Hu)
[ "$hard_n" = unlimited ] && hard_n=65536
[ "$hard_u" = unlimited ] && hard_u=4096
[ "$hard_u" -gt 4096 ] && hard_u=4096
run_flags=(--network=host --cgroups=disabled
           --ulimit "nofile=$hard_n:$hard_n" --ulimit "nproc=$hard_u:$hard_u")

# The base image, made offline when it is missing.
if ! podman image exists debian:12-slim; then
  tarball=${ANOMALY_DEBIAN_ROOTFS_TAR:-}
  if [ -z "$tarball" ]; then
    command -v debootstrap >/dev/null ||
      skip "no debian:12-slim image, no ANOMALY_DEBIAN_ROOTFS_TAR and no debootstrap to make one"
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" \
      > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    tarball=$work/rootfs.tar
    tar -C "$work/rootfs" -cf "$tarball" .
  fi
  podman import "$tarball" debian:12-slim > "$work/import.log" 2>&1 || { cat "$work/import.log" >&2; exit 1; }
fi

# Can this engine run a container at all? If not, say exactly why and skip.
if ! probe=$(podman run --rm "${run_flags[@]}" debian:12-slim true 2>&1); then
  skip "podman cannot run a container here: $probe"
fi

prom_pid=""; container=""
cleanup() {
  [ -n "$container" ] && podman rm -f "$container" >/dev/null 2>&1 || true
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null || true
}
trap cleanup EXIT

# The revision goes in as build arguments (.dockerignore leaves .git out of the context).
revision=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
describe=$(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)
podman build --isolation=chroot --network=host -t "$image" \
  --build-arg ANOMALY_REVISION="$revision" --build-arg ANOMALY_GIT_DESCRIBE="$describe" \
  "$src" > "$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; echo "FAIL: podman build (log: $work/build.log)" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
prom_port=$(free_port); exporter_port=$(free_port)
mkdir -p "$work/prom" "$work/config"
cat > "$work/prom/prometheus.yml" <<EOF
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: self
    static_configs: [{targets: ['127.0.0.1:$prom_port']}]
EOF
prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prom/log" 2>&1 &
prom_pid=$!
cat > "$work/config/anomaly.yml" <<EOF
prometheus:
  url: http://127.0.0.1:$prom_port
defaults: {step: 1m, history: 1h, interval: 2s}
detectors:
  - name: up
    query: up
EOF
chmod a+r "$work/config/anomaly.yml"

wait_for() {  # wait_for <seconds> <url>: until the URL answers 200
  local deadline=$((SECONDS + $1))
  until curl -fsS -o /dev/null "$2" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}
wait_for 60 "http://127.0.0.1:$prom_port/-/ready" ||
  { tail -20 "$work/prom/log" >&2; echo "FAIL: prometheus not ready" >&2; exit 1; }

container=$(podman run -d --read-only "${run_flags[@]}" \
  -v "$work/config/anomaly.yml:/etc/anomaly-exporter/config/anomaly.yml:ro" "$image" \
  --config.file=/etc/anomaly-exporter/config/anomaly.yml --web.listen-address="127.0.0.1:$exporter_port")
fail() { podman logs "$container" 2>&1 | tail -20 >&2; echo "FAIL: $*" >&2; exit 1; }

wait_for 90 "http://127.0.0.1:$exporter_port/-/ready" || fail "the exporter in the container is not ready"
metrics=$(curl -fsS "http://127.0.0.1:$exporter_port/metrics") || fail "scraping /metrics"
grep -q '^anomaly_exporter_build_info{' <<<"$metrics" || fail "/metrics has no anomaly_exporter_build_info"
grep -q "^anomaly_exporter_build_info{.*revision=\"$revision\"" <<<"$metrics" ||
  fail "build_info does not carry the checkout's revision $revision: $(grep build_info <<<"$metrics")"
[ "$(podman inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$image")" = "$revision" ] ||
  fail "the image's org.opencontainers.image.revision label is not $revision"
grep -q '^anomaly_exporter_detector_ready{detector="up"} 1' <<<"$metrics" ||
  fail "/metrics does not say detector up is ready"
# Prometheus' own `up` exists once it has scraped itself (every 1s): then the detector exports its state.
deadline=$((SECONDS + 60))
until curl -fsS "http://127.0.0.1:$exporter_port/metrics" | grep -q '^anomaly_state{.*detector="up"'; do
  [ $SECONDS -ge $deadline ] && fail "/metrics has no anomaly_state for detector up after 60s"
  sleep 1
done

[ "$(podman inspect -f '{{.Config.User}}' "$image")" = "10650:10650" ] ||
  fail "the image's USER is not 10650:10650"
pid=$(podman inspect -f '{{.State.Pid}}' "$container")
uid=$(awk '/^Uid:/ {print $3}' "/proc/$pid/status")  # the effective uid, as the host sees it (no userns)
[ "$uid" = 10650 ] || fail "the exporter runs as uid $uid, not 10650"
[ "$(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] ||
  fail "the root file system is writable"
echo "PASS: image $image serves /metrics read-only as uid 10650"
