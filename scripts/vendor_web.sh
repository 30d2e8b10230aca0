#!/usr/bin/env bash
# Vendor the web page's front-end libraries from the npm registry into the service's static
# files, so the page works offline. Run by maintainers; the result is committed.
set -euo pipefail
LEAFLET=1.9.4
dest="$(cd "$(dirname "$0")/.." && pwd)/src/parcelnet_service/web/static/vendor/leaflet"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "leaflet@$LEAFLET" >/dev/null && tar xzf "leaflet-$LEAFLET.tgz")
mkdir -p "$dest/images"
cp "$tmp/package/dist/leaflet.js" "$tmp/package/dist/leaflet.css" "$tmp/package/LICENSE" "$dest/"
cp "$tmp/package/dist/images/"*.png "$dest/images/"
echo "leaflet $LEAFLET -> $dest"
