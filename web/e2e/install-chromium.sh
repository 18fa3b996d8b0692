#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser test when it is not
# there yet. playwright-core drives it; `npx playwright install` cannot
# fetch its own browser builds on these machines.
set -euo pipefail
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing and installing it needs root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "installed $(/usr/bin/chromium --version)"
