// Runs first, while the rest of the page is still downloading: over http it starts fetching the
// built-in model file named in index.html, so the download overlaps the engine's. (file:// pages cannot
// fetch; web/assets.js reads model.js there instead.) A classic script, copied as is by build_site.mjs.
(() => {
  const name = document.querySelector('meta[name="stepwise-model"]')?.content;
  if (!name || location.protocol === 'file:') return;
  globalThis.stepwiseModelDownload = fetch(name)
    .then((response) => (response.ok ? response.arrayBuffer() : null))
    .catch(() => null);
})();
