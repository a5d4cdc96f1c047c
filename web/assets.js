// The files tools/build_site.mjs puts next to the page: the built-in model (as its .safetensors file, and
// as model.js, the same bytes in a classic script) and words.js. Chromium refuses fetch() on file://
// pages, so there the page reads model.js; over http it fetches the binary file, which is a quarter
// smaller and needs no decoding.

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
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
  const binary = atob(embedded.base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return { name: embedded.file, bytes };
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
