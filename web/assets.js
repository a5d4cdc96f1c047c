// The files tools/build_site.mjs puts next to the page: the engine (stepwise.wasm, and engine.js, the
// same bytes in a classic script), the built-in model (its .safetensors file, its gzip twin, and model.js,
// the same bytes in a classic script), words.js, the held-out words, and headwords.js, every CMUdict
// headword (read only when a model invents a word). Chromium refuses fetch() on file://
// pages, so there the page reads the scripts; over http it fetches the binary files. web/boot.js starts
// the engine's compilation and the model's download before this module has even arrived; here the page
// picks them up, or, where boot.js got nothing (a host that refused a file), reads the scripts instead.

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
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const boot = () => globalThis.stepwiseBoot ?? {};

/**
 * The engine, compiled: a WebAssembly.Module, or null when the engine script embeds its .wasm (a build
 * without stepwise.wasm).
 */
export async function engineModule() {
  const compiled = await boot().wasm;
  if (compiled) return compiled;
  if (!document.querySelector('meta[name="stepwise-wasm"]')?.content) return null;
  if (typeof globalThis.stepwiseEngineWasm !== 'string') await loadScript('engine.js');
  if (typeof globalThis.stepwiseEngineWasm !== 'string') throw new Error('engine.js holds no engine');
  return WebAssembly.compile(fromBase64(globalThis.stepwiseEngineWasm));
}

/** The built-in model: { name, bytes }, or null when the page was built without one. */
export async function builtinModel() {
  const name = document.querySelector('meta[name="stepwise-model"]')?.content;
  if (!name) return null;
  const started = await boot().model;
  if (started) return started;
  await loadScript('model.js');
  const embedded = globalThis.stepwiseBuiltinModel;
  if (!embedded || typeof embedded.base64 !== 'string') return null;
  return { name: embedded.file, bytes: fromBase64(embedded.base64) };
}

let testWordsPromise = null;

/**
 * The CMUdict test split, held out from training: a Map word -> its dictionary pronunciations. words.js
 * (~190 kB) is not part of the first view: it is read when this is first called (the page calls it once it
 * is interactive), once; a page without it gets an empty Map.
 */
export function testWords() {
  testWordsPromise ??= (typeof globalThis.stepwiseTestWords === 'string' ? Promise.resolve() : loadScript('words.js'))
    .catch(() => {})
    .then(() => {
      const words = new Map();
      const text = typeof globalThis.stepwiseTestWords === 'string' ? globalThis.stepwiseTestWords : '';
      delete globalThis.stepwiseTestWords;  // (the Map is what the page keeps)
      for (const line of text.split('\n')) {
        const tab = line.indexOf('\t');
        if (tab > 0) words.set(line.slice(0, tab), line.slice(tab + 1).split('|'));
      }
      return words;
    });
  return testWordsPromise;
}

let headwordsPromise = null;

/**
 * Every CMUdict headword, for saying whether an invented word is new: a Map word -> the split that holds it
 * ('train', 'dev' or 'test'). headwords.js (~590 kB, ~260 kB gzipped) is read only when this is first
 * called (a decoder-only model invents a word), once; a page without it gets null.
 */
export function headwords() {
  headwordsPromise ??= (typeof globalThis.stepwiseHeadwords === 'object' ? Promise.resolve() : loadScript('headwords.js'))
    .catch(() => {})
    .then(() => {
      const splits = globalThis.stepwiseHeadwords;
      delete globalThis.stepwiseHeadwords;
      if (!splits || typeof splits !== 'object' || Object.keys(splits).length === 0) return null;
      const words = new Map();
      for (const [split, text] of Object.entries(splits)) {
        // front-coded (tools/build_site.mjs): one digit, the characters shared with the word before, then the rest
        let previous = '';
        for (const coded of String(text).split(' ')) {
          if (!coded) continue;
          previous = previous.slice(0, coded.charCodeAt(0) - 48) + coded.slice(1);
          if (!words.has(previous)) words.set(previous, split);
        }
      }
      return words;
    });
  return headwordsPromise;
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
