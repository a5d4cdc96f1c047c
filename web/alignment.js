// The same alignment found by two mechanisms: for one word, which letters each phoneme was written from,
// in the encoder-decoder (its cross-attention: each decoder position over the encoder's reading of the
// letters) and in the decoder-only model (its masked self-attention over the one sequence <s>, letters,
// <sep>, phonemes, kept to the letter positions). Both run greedy to the end. No DOM here.
//
// For each model: { letters, phonemes (the tokens its rows wrote, </s> left out), rows[l][h] -> one row
// per phoneme over the letters }. Row k is the decoder position that wrote phoneme k: position k for the
// encoder-decoder (<s> then its phonemes), position L + 1 + k for the decoder-only model (after <s>, the L
// letters and <sep>). A decoder-only row's letter columns are the share of its attention that falls on
// the letters, as computed (not renormalised: the rest went to <s>, <sep> and the phonemes written).

/** Both models' rows for `word` (a word both can read). */
export function alignments(encoderDecoder, decoderOnly, word) {
  return { word, encoderDecoder: rowsOf(encoderDecoder, word, 'cross'), decoderOnly: rowsOf(decoderOnly, word, 'self') };
}

function rowsOf(model, word, kind) {
  const c = model.config;
  const run = model.start(word, { strategy: 'greedy' });
  try {
    // the letters: the encoder-decoder's input; the decoder-only prompt without its <sep>
    const letters = model.encoderDecoder ? run.input.slice() : run.input.slice(0, -1);
    const L = letters.length;
    const rows = Array.from({ length: c.n_decoder_layers }, () => Array.from({ length: c.n_heads }, () => []));
    const phonemes = [];
    while (!run.done) {
      const r = run.step();
      if (r.id === model.eos) break;
      phonemes.push(r.token);
      const attention = kind === 'cross' ? r.crossAttention : r.selfAttention;
      for (let l = 0; l < c.n_decoder_layers; l++) {
        for (let h = 0; h < c.n_heads; h++) {
          const row = attention[l][h];
          rows[l][h].push(kind === 'cross' ? row.slice(0, L) : row.slice(1, 1 + L));  // (copies)
        }
      }
    }
    return { model: c.name, letters, phonemes, layers: c.n_decoder_layers, heads: c.n_heads, rows, kind };
  } finally {
    run.dispose();
  }
}

/** The rows of one layer and head, or their mean over the heads ('mean'). */
export function headRows(side, layer, head) {
  const perHead = side.rows[layer];
  if (head !== 'mean') return perHead[head];
  return perHead[0].map((row, i) => row.map((_, j) => perHead.reduce((sum, rows) => sum + rows[i][j], 0) / perHead.length));
}

/**
 * The layer a side opens on. The encoder-decoder: its last (each cross-attention row sums to 1 over the
 * letters in every layer). The decoder-only model: the layer whose mean over heads puts the largest share
 * of its attention on the letters (its other layers look mostly at <s>, <sep> or the phonemes written).
 */
export function readingLayer(side) {
  if (side.kind === 'cross') return side.layers - 1;
  let best = side.layers - 1;
  let bestShare = -1;
  for (let l = 0; l < side.layers; l++) {
    const rows = headRows(side, l, 'mean');
    const share = rows.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0) / Math.max(1, rows.length);
    if (share > bestShare) [best, bestShare] = [l, share];
  }
  return best;
}
