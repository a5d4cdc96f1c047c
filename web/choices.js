// What the page offers to type and to feed: whether a model can read a word, the example words for a
// model, and the references teacher forcing can feed. No DOM here.

const EXAMPLES = ['phoenix', 'knight', 'xylophone', 'through', 'queue'];

const SPECIALS = ['<pad>', '<s>', '</s>', '<sep>'];

// A decoder-only model reads its prompt in its target vocabulary: with a separator (G2P), a word's letters
// (the single lowercase characters of the vocabulary; the engine adds <sep>); without, space-separated
// tokens. Either leaves room for <s> and what it writes.
function decoderOnlySymbols(model, word) {
  const c = model.config;
  if (c.target_vocab.sep) {
    const letters = new Set(model.targetTokens.filter((t) => [...t].length === 1 && t.toLowerCase() === t && !SPECIALS.includes(t)));
    return { symbols: [...word.toLowerCase()], vocabulary: letters, max: c.max_target_len - 3 };
  }
  const tokens = new Set(model.targetTokens.filter((t) => !SPECIALS.includes(t) && t !== c.target_vocab.pad && t !== c.target_vocab.bos && t !== c.target_vocab.eos));
  return { symbols: word.split(/\s+/).filter(Boolean), vocabulary: tokens, max: c.max_target_len - 2 };
}

/** True when the model can read `word`: every symbol in its source vocabulary, and not too many. */
export function readable(model, word) {
  if (!model.encoderDecoder) {
    const { symbols, vocabulary, max } = decoderOnlySymbols(model, word);
    return symbols.length > 0 && symbols.length <= max && symbols.every((x) => vocabulary.has(x));
  }
  const c = model.config.source_vocab;
  const vocabulary = new Set(model.sourceTokens);
  const text = c.lowercase ? word.replace(/[A-Z]/g, (ch) => ch.toLowerCase()) : word;
  const symbols = c.split === 'space' ? text.split(/\s+/).filter(Boolean) : [...text];
  return symbols.length > 0 && symbols.length <= model.config.max_source_len && symbols.every((x) => vocabulary.has(x));
}

/** The example words offered for a model. */
export function examplesFor(model) {
  const words = EXAMPLES.filter((w) => readable(model, w));
  if (words.length) return words;
  if (!model.encoderDecoder && !model.config.target_vocab.sep) {
    // A prompt of tokens (the test fixtures' A-G): a few short sequences of them.
    const tokens = [...decoderOnlySymbols(model, '').vocabulary];
    const max = Math.min(model.config.max_target_len - 3, 4);
    return [2, 3, 4].filter((n) => n <= max && tokens.length).map((n, k) =>
      Array.from({ length: n }, (_, i) => tokens[(i * (k + 1) + k) % tokens.length]).join(' '));
  }
  if (!model.encoderDecoder) {
    const letters = [...decoderOnlySymbols(model, '').vocabulary];
    const max = Math.min(model.config.max_target_len - 3, 6);
    return [3, 4, 5].filter((n) => n <= max && letters.length).map((n, k) =>
      Array.from({ length: n }, (_, i) => letters[(i * (k + 2) + k) % letters.length]).join(''));
  }
  // A model with another alphabet (the test fixtures read a-h): make a few words from its letters.
  const letters = model.sourceTokens.filter((t) => [...t].length === 1 && /\p{L}/u.test(t));
  const max = Math.min(model.config.max_source_len, 6);
  return [3, 4, 5, 6].filter((n) => n <= max && letters.length).map((n, k) =>
    Array.from({ length: n }, (_, i) => letters[(i * (k + 2) + k) % letters.length]).join(''));
}

/**
 * What teacher forcing can feed for `word`, besides what the user types: { label, source, text() }, the
 * dictionary's pronunciation of a held-out word first (words: word -> pronunciations), then the model's
 * own greedy output. text() computes the reference when it is asked for.
 */
export function targetPresets(model, word, words) {
  const presets = [];
  const dictionary = words.get(word.toLowerCase());
  if (dictionary && dictionary[0].split(' ').every((p) => model.targetTokens.includes(p))) {
    presets.push({ label: 'feed the dictionary’s', source: 'the dictionary’s pronunciation (CMUdict)', text: () => dictionary[0] });
  }
  presets.push({
    label: 'feed the model’s own output',
    source: 'the model’s own greedy output',
    text: () => {
      const run = model.start(word, { strategy: 'greedy' });
      try {
        return run.complete();
      } finally {
        run.dispose();
      }
    },
  });
  return presets;
}
