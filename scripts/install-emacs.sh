#!/usr/bin/env bash
# Installs Emacs 28 and eglot 1.9 from Debian bookworm (emacs-nox, elpa-eglot), and Emacs 30
# from Debian forky (below), for the Emacs end-to-end test (test/editors/emacs.test.ts), and
# tmux to drive them. Idempotent; see
# /work/shared/reference/editor-testing.md (Emacs with eglot).
set -euo pipefail
cd "$(dirname "$0")/.."
editors="$PWD/.editors"
mkdir -p "$editors/bin"

# shellcheck source=lib/editors.sh
source "$PWD/scripts/lib/editors.sh"

apt_install emacs-nox elpa-eglot tmux
emacs --version | head -1
emacs --batch -Q -l package --eval '(progn (package-initialize) (require (quote eglot)) (princ (format "eglot %s\n" (if (fboundp (quote eglot--version)) (eglot--version) (package-desc-version (cadr (assq (quote eglot) package-alist)))))))' 2>/dev/null || true

# Emacs 30 with its built-in eglot (1.17+), from Debian forky, unpacked under .editors/ (no
# system change) and run through .editors/bin/emacs-30: the eglot most users have now.
wrapper="$editors/bin/emacs-30"
if ! { [ -x "$wrapper" ] && "$wrapper" --batch -Q --eval '(princ emacs-version)' 2>/dev/null | grep -q '^30\.'; }; then
  apt_install patchelf
  debs="$editors/debs/emacs-30"
  rm -rf "$debs"
  # emacs-nox's run-time libraries; the compiler toolchain libgccjit would drive is left out
  # (Emacs only compiles natively what it finds no .eln for; the unpacked ones are found).
  debian_download forky "$debs" emacs-nox emacs-bin-common emacs-common emacs-el emacsen-common \
    gcc-15-base gcc-16-base libacl1 libasound2-data libasound2t64 libatomic1 libattr1 libc-gconv-modules-extra libc6 \
    libdbus-1-3 libffi8 libgcc-s1 libgccjit15 libgmp10 libgnutls30t64 libgomp1 libgpm2 libhogweed6t64 libidn2-0 \
    libisl23 liblcms2-2 libmpc3 libmpfr6 libnettle8t64 libp11-kit0 libpcre2-8-0 libselinux1 libsqlite3-0 \
    libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libtree-sitter0.26 libunistring5 libxml2-16 libzstd1 zlib1g
  root="$editors/emacs-30"
  unpack_patch "$debs" "$root" usr/bin/emacs-nox
  dump="$(ls "$root"/usr/libexec/emacs/30.*/x86_64-linux-gnu/*.pdmp)"
  share="$(ls -d "$root"/usr/share/emacs/30.*)"
  cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Emacs 30 from Debian forky, unpacked by scripts/install-emacs.sh.
EMACSDATA="$share/etc" EMACSDOC="$share/etc" EMACSLOADPATH="$share/lisp" \\
  EMACSPATH="$(dirname "$dump")" exec "$root/usr/bin/emacs-nox" --dump-file="$dump" "\$@"
WRAPPER
  chmod +x "$wrapper"
fi
"$wrapper" --batch -Q --eval '(progn (require (quote eglot)) (princ (format "Emacs %s, eglot %s\n" emacs-version (locate-library "eglot"))))' 2>/dev/null
