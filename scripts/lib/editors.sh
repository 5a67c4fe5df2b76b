#!/usr/bin/env bash
# Shared by the editor install scripts: apt installs that skip what is there, and newer Debian .debs
# unpacked under .editors/ with their binaries patched to that root's loader (no system change).
# Expects `$editors` (the .editors/ folder) to be set by the sourcing script.

apt_install() {
  local missing=()
  for package in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -q
  apt-get -o DPkg::Lock::Timeout=900 install -y -q "${missing[@]}"
}

# Fetches .debs of a Debian suite (trixie, forky) with a private apt source list and state per
# suite, so the system's apt is untouched.
debian_download() {
  local suite="$1" into="$2"; shift 2
  local apt_dir="$editors/apt-$suite"
  [ "$suite" = trixie ] && apt_dir="$editors/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$into"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$apt_dir/sources.list"
  local options=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name "*${suite}*Packages*" -mmin -1440 2>/dev/null)" ]; then
    apt-get "${options[@]}" update -q
  fi
  (cd "$into" && apt-get "${options[@]}" download "$@")
}

trixie_download() {
  debian_download trixie "$@"
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
