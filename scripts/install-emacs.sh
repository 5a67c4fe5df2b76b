#!/usr/bin/env bash
# Installs Emacs 28 and eglot 1.9 from Debian bookworm (emacs-nox, elpa-eglot) for the Emacs
# end-to-end test (test/editors/emacs.test.ts), and tmux to drive it. Idempotent; see
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
