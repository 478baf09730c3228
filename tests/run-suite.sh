#!/usr/bin/env bash
# Run the whole pytest suite inside a private D-Bus session with an unlocked
# gnome-keyring (a real Secret Service), a throwaway HOME and no DISPLAY, so no
# test can touch the user's own keyring, settings or screen.
set -euo pipefail
cd "$(dirname "$0")/.."
python=".venv/bin/python"
home=$(mktemp -d -t kit-desktop-home.XXXXXX)
trap 'rm -rf "$home"' EXIT
export HOME="$home" PYTHONDONTWRITEBYTECODE=1
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  # shellcheck disable=SC2016 # expanded by the inner sh, not here
  exec dbus-run-session -- sh -c '
    printf %s kit-desktop-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" -m pytest "$@"' "$python" "$@"
fi
echo "note: no dbus-run-session/gnome-keyring-daemon; Secret Service tests will skip (fail in CI)" >&2
exec "$python" -m pytest "$@"
