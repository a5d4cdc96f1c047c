#!/usr/bin/env bash
# The demo: sets everything up, builds the WebAssembly module and the site, and serves it on localhost.
#
#   bash tools/demo.sh            # http://localhost:8000/stepwise/
#   PORT=9000 bash tools/demo.sh  # another port
#
# The built site (site/) also works without a server: open site/index.html in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build_wasm.sh
node tools/build_site.mjs
exec node tools/serve.mjs --root site --base /stepwise/ --port "${PORT:-8000}"
