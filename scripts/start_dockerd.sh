#!/usr/bin/env bash
# Start a Docker engine in the background (as root, on a machine without systemd) and wait
# until it answers; build syslab's base image unless SYSLAB_SKIP_IMAGE=1.
# Usage: scripts/start_dockerd.sh   (idempotent: does nothing if an engine already answers)
set -euo pipefail
log=${DOCKERD_LOG:-/tmp/syslab-dockerd.log}

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "start_dockerd: dockerd not installed (apt-get install -y docker.io)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "start_dockerd: must run as root" >&2; exit 1; }
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { echo "start_dockerd: dockerd did not come up; tail of $log:" >&2; tail -5 "$log" >&2; exit 1; }
fi
echo "start_dockerd: $(docker version --format 'engine {{.Server.Version}}' 2>/dev/null || echo 'engine up')"

# The base image (debootstrap, ~1-3 min on a fresh machine); cached by Docker afterwards.
if [ "${SYSLAB_SKIP_IMAGE:-0}" != 1 ]; then
  python3 -c "from syslab.sandbox.images import build_base_image; print('start_dockerd: image', build_base_image())" \
    || echo "start_dockerd: base image not built; Docker tests will build it or skip with the reason" >&2
fi
