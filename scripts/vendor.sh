#!/usr/bin/env bash
# Refresh the bundled front-end libraries in zhili/static/vendor from the npm registry.
# Users never need this: the built files are committed. Developers run it to upgrade.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/zhili/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund bootstrap@5 bootstrap-icons@1 htmx.org@2 leaflet@1 echarts@5 three@0.160 leaflet.heat@0.2 >/dev/null
m="$work/node_modules"
rm -rf "$dest" && mkdir -p "$dest"/{bootstrap,bootstrap-icons/fonts,htmx,leaflet/images,echarts,three,leaflet-heat}
cp "$m/bootstrap/dist/css/bootstrap.min.css" "$m/bootstrap/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap/"
cp "$m/bootstrap/LICENSE" "$dest/bootstrap/LICENSE"
cp "$m/bootstrap-icons/font/bootstrap-icons.min.css" "$dest/bootstrap-icons/"
cp "$m/bootstrap-icons/font/fonts/"* "$dest/bootstrap-icons/fonts/"
cp "$m/bootstrap-icons/LICENSE" "$dest/bootstrap-icons/LICENSE"
cp "$m/htmx.org/dist/htmx.min.js" "$dest/htmx/"
cp "$m/htmx.org/LICENSE" "$dest/htmx/LICENSE"
cp "$m/leaflet/dist/leaflet.js" "$m/leaflet/dist/leaflet.css" "$dest/leaflet/"
cp "$m/leaflet/dist/images/"* "$dest/leaflet/images/"
cp "$m/leaflet/LICENSE" "$dest/leaflet/LICENSE"
cp "$m/echarts/dist/echarts.min.js" "$dest/echarts/"
cp "$m/echarts/LICENSE" "$dest/echarts/LICENSE"
# three.js as ES modules; OrbitControls imports "three", which a browser without an import map
# (an inline script, forbidden by our CSP) cannot resolve, so point it at the bundled file.
cp "$m/three/build/three.module.min.js" "$dest/three/"
sed "s#from 'three'#from './three.module.min.js'#" "$m/three/examples/jsm/controls/OrbitControls.js" > "$dest/three/OrbitControls.js"
cp "$m/three/LICENSE" "$dest/three/LICENSE"
cp "$m/leaflet.heat/dist/leaflet-heat.js" "$dest/leaflet-heat/"
cp "$m/leaflet.heat/LICENSE" "$dest/leaflet-heat/LICENSE" 2>/dev/null || printf 'BSD-2-Clause (c) 2014 Vladimir Agafonkin, https://github.com/Leaflet/Leaflet.heat\n' > "$dest/leaflet-heat/LICENSE"
( cd "$m" && for p in bootstrap bootstrap-icons htmx.org leaflet echarts three leaflet.heat; do
    printf '%s %s\n' "$p" "$(node -p "require('./$p/package.json').version")"; done ) > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
