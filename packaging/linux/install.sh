#!/bin/sh
# Kit Desktop for this account only: the program under ~/.local/opt, its menu entry and
# icon under ~/.local/share, and a kit-desktop command in ~/.local/bin. Nothing is written
# outside your home folder and nothing needs sudo.
#
#   ./install.sh               install (or update) from this folder
#   ./install.sh --uninstall   remove the program, its menu entry, icon and command
#
# Your connection lives in the computer's secure storage, not in these files: removing the
# program keeps it. To end it, click Disconnect in Kit Desktop before you uninstall.
set -eu

# The oldest C library the bundled programs accept, measured from them when the download is
# made (packaging/package.py writes it here; 0 in the source tree: no check).
NEEDS_GLIBC=0
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
program=$HOME/.local/opt/kit-desktop
entry=$data/applications/kit-desktop.desktop
icon=$data/icons/hicolor/256x256/apps/kit-desktop.png
command=$HOME/.local/bin/kit-desktop

refresh_menus() {
  command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$data/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 \
    && gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
}

case "${1:-}" in
  --uninstall)
    rm -rf "$program"
    rm -f "$entry" "$icon"
    if [ -L "$command" ]; then rm -f "$command"; fi
    refresh_menus
    echo "Kit Desktop was removed from this computer."
    echo "Your Kit connection (if any) is still in your secure storage; reinstall and click"
    echo "Disconnect to end it."
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: $0 [--uninstall]" >&2
    exit 2
    ;;
esac

if [ "$NEEDS_GLIBC" != 0 ]; then
  have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || have=""
  if [ -z "$have" ]; then
    echo "Note: could not tell this computer's C library version; Kit Desktop needs glibc $NEEDS_GLIBC or newer." >&2
  elif [ "$(printf '%s\n%s\n' "$NEEDS_GLIBC" "$have" | sort -V | head -n 1)" != "$NEEDS_GLIBC" ]; then
    echo "This download of Kit Desktop needs a newer Linux: glibc $NEEDS_GLIBC or later" >&2
    echo "(Debian 12, Ubuntu 24.04, Fedora 37 or newer). This computer has glibc $have." >&2
    echo "Nothing was installed. Kit Desktop can still run from its source code: see" >&2
    echo "the README of its repository (make run)." >&2
    exit 1
  fi
fi

if [ ! -x "$here/kit-desktop/kit-desktop" ]; then
  echo "This folder does not hold Kit Desktop (kit-desktop/kit-desktop is missing)." >&2
  echo "Unpack the whole download again and run ./install.sh from it." >&2
  exit 1
fi

mkdir -p "$HOME/.local/opt" "$data/applications" "$(dirname "$icon")" "$(dirname "$command")"
rm -rf "$program.new"
cp -R "$here/kit-desktop" "$program.new"
rm -rf "$program"
mv "$program.new" "$program"
cp "$here/kit-desktop.png" "$icon"
# The menu entry, pointed at this install (paths quoted as the Desktop Entry spec asks).
sed -e "s|^Exec=.*|Exec=\"$program/kit-desktop\"|" \
    -e "s|^TryExec=.*||" \
    "$here/kit-desktop.desktop" > "$entry.new"
mv "$entry.new" "$entry"
ln -sfn "$program/kit-desktop" "$command"
refresh_menus

echo "Kit Desktop is installed: find it in your applications menu."
case ":$PATH:" in
  *":$HOME/.local/bin:"*) echo "In a terminal, run: kit-desktop status" ;;
  *) echo "In a terminal, run: $command status" ;;
esac
