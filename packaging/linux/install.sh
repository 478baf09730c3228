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
