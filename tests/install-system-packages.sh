#!/usr/bin/env bash
# Install the Debian packages the tests use, when this machine lets us (root or sudo).
# Missing packages are not fatal here: tests that need them skip on a developer
# machine and fail in CI (CI=true), with the reason.
set -u
packages=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
          gnome-keyring dbus chromium xdotool curl desktop-file-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get; not installing ${missing[*]}" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "note: not root; please install: ${missing[*]}" >&2
    exit 0
  fi
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { echo "error: apt-get could not install ${missing[*]}" >&2; exit 1; }
