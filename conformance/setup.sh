#!/usr/bin/env bash
# Installs the real protocol clients the conformance runs use, from Debian, when missing.
set -euo pipefail
# libstrongswan-standard-plugins: strongswan-pki alone has no ECDSA (its openssl plugin lives there), and our CA is P-256.
packages=(openssl curl certbot lego uacme dehydrated caddy acme-tiny acmetool scep strongswan-pki libstrongswan-standard-plugins libstrongswan-extra-plugins certmonger dbus gnutls-bin pebble)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "conformance setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
