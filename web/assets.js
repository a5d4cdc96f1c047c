// The files tools/build_site.mjs puts next to the page: the engine (stepwise.wasm, and engine.js, the
// same bytes in a classic script), the built-in model (its .safetensors file, and model.js likewise) and
// words.js. Chromium refuses fetch() on file:// pages, so there the page reads the scripts; over http it
// fetches the binary files (web/boot.js starts both downloads), which are a quarter smaller and need no
// decoding.

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The engine's .wasm bytes, or null when the engine script embeds them (a build without stepwise.wasm). */
export async function engineBinary() {
  const downloaded = await globalThis.stepwiseWasmDownload;
  if (downloaded) return new Uint8Array(downloaded);
  if (!document.querySelector('meta[name="stepwise-wasm"]')?.content) return null;
  await loadScript('engine.js');
  if (typeof globalThis.stepwiseEngineWasm !== 'string') throw new Error('engine.js holds no engine');
  return fromBase64(globalThis.stepwiseEngineWasm);
}

/** The built-in model: { name, bytes }, or null when the page was built without one. */
export async function builtinModel() {
  const name = document.querySelector('meta[name="stepwise-model"]')?.content;
  if (!name) return null;
  // web/boot.js started the download as the page began to load; a host that refused it gives null
  const downloaded = await globalThis.stepwiseModelDownload;
  if (downloaded) return { name, bytes: new Uint8Array(downloaded) };
  await loadScript('model.js');
  const embedded = globalThis.stepwiseBuiltinModel;
  if (!embedded || typeof embedded.base64 !== 'string') return null;
  return { name: embedded.file, bytes: fromBase64(embedded.base64) };
}

/** The CMUdict test split: word -> its dictionary pronunciations (held out from training). */
export function testWords() {
  const words = new Map();
  const text = typeof globalThis.stepwiseTestWords === 'string' ? globalThis.stepwiseTestWords : '';
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) words.set(line.slice(0, tab), line.slice(tab + 1).split('|'));
  }
  return words;
}

/** The second shipped model named in index.html (loaded only when chosen), or '' when the page has none. */
export const secondModelName = () => document.querySelector('meta[name="stepwise-second-model"]')?.content ?? '';

/**
 * A shipped model's bytes, fetched only now: the .safetensors file over http; on file:// (no fetch) the
 * classic script build_site.mjs writes beside it (NAME.js), injected now, which adds the same bytes to
 * stepwiseShippedModels.
 */
export async function shippedModel(name) {
  if (location.protocol !== 'file:') {
    const response = await fetch(name).catch(() => null);
    if (response?.ok) return new Uint8Array(await response.arrayBuffer());
  }
  await loadScript(name.replace(/\.safetensors$/, '.js'));
  const embedded = globalThis.stepwiseShippedModels?.[name];
  if (typeof embedded !== 'string') throw new Error(`${name.replace(/\.safetensors$/, '.js')} holds no model`);
  delete globalThis.stepwiseShippedModels[name];  // the page keeps the model, not a second copy of its text
  return fromBase64(embedded);
}
