// The files tools/build_site.mjs embeds as classic scripts next to the page (model.js, words.js), so the
// page works from file:// where fetch() is refused.

/** The built-in model: { name, bytes } or null when the page was built without one. */
export function builtinModel() {
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
