#!/usr/bin/env bash
# Installs the two Neovim versions the editor tests drive: 0.7.2 from Debian bookworm as
# /usr/bin/nvim, and 0.10 from Debian trixie unpacked under .editors/ (no system change), run
# through .editors/bin/nvim-0.10. Idempotent; see /work/shared/reference/editor-testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
editors="$PWD/.editors"
mkdir -p "$editors/bin"

apt_install() {
  local missing=()
  for package in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
}

# Fetches trixie .debs with a private apt source list and state, so the system's apt is untouched.
trixie_download() {
  local into="$1"; shift
  local apt_dir="$editors/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$into"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$apt_dir/sources.list"
  local options=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*trixie*Packages*' -mmin -1440 2>/dev/null)" ]; then
    apt-get "${options[@]}" update -q
  fi
  (cd "$into" && apt-get "${options[@]}" download "$@")
}

# Unpacks .debs into a root and points the binaries at that root's loader and libraries
# (trixie needs glibc 2.38+; running through the loader instead breaks the nvim 0.10 TUI).
unpack_patch() {
  local debs="$1" root="$2"; shift 2
  rm -rf "$root" && mkdir -p "$root"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  local lib="$root/usr/lib/x86_64-linux-gnu"
  for binary in "$@"; do
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$root/$binary"
  done
}

apt_install neovim patchelf
/usr/bin/nvim --version | head -1

wrapper="$editors/bin/nvim-0.10"
if ! { [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | head -1 | grep -q '^NVIM v0\.10'; }; then
  debs="$editors/debs/neovim"
  rm -rf "$debs"
  trixie_download "$debs" neovim neovim-runtime libc6 libgcc-s1 libluajit-5.1-2 libluajit-5.1-common \
    libmsgpack-c2 libtree-sitter0.22 libunibilium4 libuv1t64 libvterm0 lua-lpeg lua-luv libutf8proc3
  root="$editors/neovim-0.10"
  unpack_patch "$debs" "$root" usr/bin/nvim
  cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Neovim 0.10 from Debian trixie, unpacked by scripts/install-neovim.sh.
VIMRUNTIME="$root/usr/share/nvim/runtime" exec "$root/usr/bin/nvim" "\$@"
WRAPPER
  chmod +x "$wrapper"
fi
"$wrapper" --version | head -1
