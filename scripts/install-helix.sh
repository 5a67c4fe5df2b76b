#!/usr/bin/env bash
# Installs Helix 25.01 from Debian trixie unpacked under .editors/ (no system change), run
# through .editors/bin/hx, and tmux to drive it. Idempotent; see
# /work/shared/reference/editor-testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
editors="$PWD/.editors"
mkdir -p "$editors/bin"

# shellcheck source=lib/editors.sh
source "$PWD/scripts/lib/editors.sh"

apt_install tmux patchelf
tmux -V

wrapper="$editors/bin/hx"
if ! { [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q '^helix 25\.'; }; then
  debs="$editors/debs/helix"
  rm -rf "$debs"
  trixie_download "$debs" hx libc6 libgcc-s1
  root="$editors/helix"
  unpack_patch "$debs" "$root" usr/lib/hx/hx
  cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Helix from Debian trixie, unpacked by scripts/install-helix.sh.
HELIX_RUNTIME="$root/usr/lib/hx/runtime" exec "$root/usr/lib/hx/hx" "\$@"
WRAPPER
  chmod +x "$wrapper"
fi
"$wrapper" --version
