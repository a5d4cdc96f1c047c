// Runs first, while the rest of the page is still downloading: over http it starts fetching the engine
// (.wasm) and the built-in model named in index.html, so both downloads overlap the page's. (file://
// pages cannot fetch; web/assets.js reads engine.js and model.js there instead.) A classic script,
// copied as is by build_site.mjs.
(() => {
  if (location.protocol === 'file:') return;
  const download = (name) =>
    name
      ? fetch(name)
          .then((response) => (response.ok ? response.arrayBuffer() : null))
          .catch(() => null)
      : null;
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
  globalThis.stepwiseWasmDownload = download(meta('stepwise-wasm'));
  globalThis.stepwiseModelDownload = download(meta('stepwise-model'));
})();
