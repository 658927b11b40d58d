#!/usr/bin/env bash
# Installs the Debian packages adsync's demo and tests need (a Samba AD DC,
# OpenLDAP slapd and the LDAP tools, Chromium for the console's browser
# tests, promtool from prometheus for the alert rules), only those that are
# missing.
set -euo pipefail

packages=(chromium prometheus samba samba-ad-dc samba-ad-provision winbind krb5-user ldap-utils smbclient slapd ldb-tools openssl ca-certificates gcc libc6-dev make)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
# slapd asks questions on install; krb5-user too.
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
${SUDO:+$SUDO -E} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian slapd and samba services are not used: adsync's harness runs
# private instances on loopback. Stop the system ones if they started.
for svc in slapd samba-ad-dc smbd nmbd winbind prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
pkill -x slapd 2>/dev/null || true
pkill -x prometheus 2>/dev/null || true
echo "install-deps: done"
