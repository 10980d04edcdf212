#!/usr/bin/env bash
# Installs the load generators and reference tools `npm run bench -- revocation` drives, from Debian, when missing:
# wrk and hey (HTTP load), openssl (reference OCSP responder and `openssl ca -gencrl`), time (GNU time: CPU and peak
# RSS of the tools), iproute2 (`ip`, to bring up
# loopback in the private network namespace openssl's responder runs in) and util-linux (`unshare`).
set -euo pipefail
packages=(wrk hey openssl time iproute2 util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
