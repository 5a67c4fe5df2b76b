#!/usr/bin/env bash
# Installs the three Neovim versions the editor tests drive: 0.7.2 from Debian bookworm as
# /usr/bin/nvim, 0.10 from Debian trixie and 0.12 (the `vim.lsp.enable` line, 0.11+) from Debian
# forky, both unpacked under .editors/ (no system change) and run through .editors/bin/nvim-0.10
# and .editors/bin/nvim-0.12. Idempotent; see /work/shared/reference/editor-testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
editors="$PWD/.editors"
mkdir -p "$editors/bin"

# shellcheck source=lib/editors.sh
source "$PWD/scripts/lib/editors.sh"

apt_install neovim patchelf
/usr/bin/nvim --version | head -1

# Neovim VERSION from a newer Debian SUITE, unpacked under .editors/neovim-VERSION and run
# through .editors/bin/nvim-VERSION; the rest are the .debs it needs beside the system's.
unpacked_neovim() {
  local version="$1" suite="$2"; shift 2
  local wrapper="$editors/bin/nvim-$version"
  if [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | head -1 | grep -q "^NVIM v${version//./\\.}"; then
    "$wrapper" --version | head -1
    return 0
  fi
  local debs="$editors/debs/neovim-$version" root="$editors/neovim-$version"
  rm -rf "$debs"
  debian_download "$suite" "$debs" neovim neovim-runtime "$@"
  unpack_patch "$debs" "$root" usr/bin/nvim
  cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Neovim $version from Debian $suite, unpacked by scripts/install-neovim.sh.
VIMRUNTIME="$root/usr/share/nvim/runtime" exec "$root/usr/bin/nvim" "\$@"
WRAPPER
  chmod +x "$wrapper"
  "$wrapper" --version | head -1
}

unpacked_neovim 0.10 trixie libc6 libgcc-s1 libluajit-5.1-2 libluajit-5.1-common libmsgpack-c2 libtree-sitter0.22 \
  libunibilium4 libuv1t64 libvterm0 lua-lpeg lua-luv libutf8proc3
unpacked_neovim 0.12 forky libc6 libgcc-s1 libluajit-5.1-2 libluajit-5.1-common libtree-sitter0.26 libunibilium4 \
  libuv1t64 lua-lpeg lua-luv libutf8proc3
