#!/usr/bin/env bash
# Copies the pinned browser libraries (web/package.json + web/package-lock.json)
# into internal/web/static/vendor/. Runs `npm ci` in web/ only when
# web/node_modules is missing or older than the lockfile. Idempotent.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/web"
dest="$root/internal/web/static/vendor"
lock="$web/package-lock.json"
# npm writes node_modules/.package-lock.json on every install/ci; it is the
# most reliable "when was node_modules last synced" marker.
marker="$web/node_modules/.package-lock.json"

if ! command -v npm >/dev/null 2>&1; then
  echo "vendor-assets: npm not found on PATH" >&2
  exit 1
fi

if [[ ! -d "$web/node_modules" || ! -f "$marker" || "$lock" -nt "$marker" ]]; then
  echo "vendor-assets: running npm ci in web/"
  (cd "$web" && npm ci --no-audit --no-fund)
  touch "$marker"
fi

# source (relative to web/node_modules) -> file name in vendor/
assets=(
  "htmx.org/dist/htmx.min.js:htmx.min.js"
  "uplot/dist/uPlot.iife.min.js:uPlot.iife.min.js"
  "uplot/dist/uPlot.min.css:uPlot.min.css"
  "sortablejs/Sortable.min.js:Sortable.min.js"
)

mkdir -p "$dest"
changed=0
for entry in "${assets[@]}"; do
  src="$web/node_modules/${entry%%:*}"
  dst="$dest/${entry##*:}"
  if [[ ! -f "$src" ]]; then
    echo "vendor-assets: missing $src (is web/package-lock.json in sync?)" >&2
    exit 1
  fi
  if [[ ! -f "$dst" ]] || ! cmp -s "$src" "$dst"; then
    cp "$src" "$dst"
    echo "vendor-assets: updated ${dst#"$root"/}"
    changed=1
  fi
done
if [[ $changed -eq 0 ]]; then
  echo "vendor-assets: internal/web/static/vendor/ is up to date"
fi
