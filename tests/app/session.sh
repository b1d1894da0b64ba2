#!/usr/bin/env bash
# Inside the D-Bus session of tests/app/run (arguments go to pytest) and of
# scripts/measure-live ("-- COMMAND..." runs that command instead).
set -euo pipefail
# An unlocked login keyring, as a desktop session would have; in a folder
# of its own, so a keyring left by an earlier run (with another password)
# is never the one unlocked.
keyring_home=$(mktemp -d)
export XDG_DATA_HOME="$keyring_home"
echo -n socksbox-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
display=
for n in $(seq 90 130); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=$n; break; fi
done
[ -n "$display" ] || { echo "no free X display number" >&2; exit 1; }
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$keyring_home"' EXIT
for _ in $(seq 1 100); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$display" ] || { echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$display"
# Never the compositing workaround: it makes WebDriver screenshots hang.
unset WEBKIT_DISABLE_COMPOSITING_MODE
if [ "${1:-}" = "--" ]; then
  shift
  "$@"
else
  .venv/bin/python -m pytest -p no:cacheprovider tests/app "$@"
fi
