#!/bin/sh
# Installs the pinned validators (package-lock.json) into <dir>/node_modules, once per lock: a rerun with
# the same lock does nothing, and npm's cache lives in the build tree, so later runs need no network.
#   usage: npm_ci.sh <dir holding package.json and package-lock.json> <npm cache dir>
set -eu
dir=$1
cache=$2
command -v npm >/dev/null || { echo "npm_ci: npm not found (scripts/install-deps.sh test installs nodejs, npm)" >&2; exit 1; }
if cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json" 2>/dev/null; then
  exit 0
fi
cd "$dir"
if ! npm ci --prefer-offline --no-audit --no-fund --cache "$cache"; then
  cat >&2 <<'EOF_HINT'
npm_ci: could not install the chart validators from the npm registry. The first `make test` in a build
tree needs registry.npmjs.org once (later runs use the cache in the build tree). Behind a proxy that
re-signs TLS (npm ERR! SELF_SIGNED_CERT_IN_CHAIN), point Node at its CA: NODE_EXTRA_CA_CERTS=/path/ca.pem.
Without network, `make test CTEST_FLAGS='-LE helm'` runs everything but the chart tests.
EOF_HINT
  exit 1
fi
cp package-lock.json node_modules/.installed-lock.json
