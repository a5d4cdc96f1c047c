// The four matrices the page can show, and what to say about each. `part` names the box of the decoder
// diagram that produces the view.
export const VIEWS = [
  { id: 'mask', tab: 'Causal mask', part: 'mask' },
  { id: 'self', tab: 'Masked self-attention', part: 'self' },
  { id: 'cross', tab: 'Cross-attention', part: 'cross' },
  { id: 'encoder', tab: 'Encoder self-attention', part: 'encoder' },
];

export const headName = (head, heads) => (head === 'mean' ? `mean of ${heads} heads` : `head ${head + 1}`);

export function viewTitle(view, { layer, head, heads }) {
  const where = `layer ${layer + 1}, ${headName(head, heads)}`;
  switch (view) {
    case 'mask': return 'The causal mask';
    case 'self': return `Masked self-attention · ${where}`;
    case 'cross': return `Cross-attention · ${where}`;
    case 'encoder': return `Encoder self-attention · ${where}`;
    default: return '';
  }
}

/** One or two sentences for the view, for the mode the trace was made in. */
export function viewExplanation(view, trace) {
  const unmasked = trace && !trace.causal;
  const teacher = trace?.mode === 'teacher';
  switch (view) {
    case 'mask':
      return unmasked
        ? 'The mask is switched off: every score stays finite, so each position may attend to every other one, including phonemes that come after it.'
        : 'Before the softmax the decoder adds this matrix to its attention scores: 0 where a position may look, −∞ where it would see the future. ' +
            (teacher
              ? 'That is what lets one parallel pass over the whole reference give each position only its past.'
              : 'It grows by one row and one column with every step.');
    case 'self':
      if (trace?.decoderOnly && !unmasked) {
        return 'One sequence: <s>, the prompt, then what the model writes. Row i is position i (the query) weighing the positions it may see (the keys), prompt included: with no encoder, this is how the model reads its input. ' +
          'Each row sums to 1; the upper triangle is empty because the mask set those scores to −∞.';
      }
      return unmasked
        ? 'Without the mask the upper triangle fills in: rows now draw on phonemes later in the sequence, information a decoder writing one step at a time never has.'
        : 'Row i is decoder position i (the query) weighing the positions it may see (the keys); each row sums to 1. ' +
            'The upper triangle is empty because the mask set those scores to −∞. The outlined row is the one that produced the selected phoneme.';
    case 'cross':
      return 'Each decoder position (a row) looks at the encoder\'s reading of your word (the columns) to decide the next phoneme. ' +
        'Bright cells are the letters behind that phoneme: where spelling meets sound.';
    case 'encoder':
      return 'The encoder reads the whole word at once, with no mask: every letter attends to the letters before and after it. Compare with the decoder\'s triangle.';
    default:
      return '';
  }
}

// The page's headline, its first paragraph and the input and output labels, for the kind of model
// loaded: the shipped encoder-decoder, a decoder-only G2P model (letters, <sep>, phonemes), or another
// decoder-only model (a prompt and its continuation). `link` marks where the paper's link goes.
export function lede(model) {
  const c = model?.config;
  if (!c || c.architecture !== 'decoder-only') {
    return {
      title: 'Watch a Transformer decoder spell out how a word sounds',
      text: ['A real encoder–decoder Transformer (', 'link', '), running in your browser, writes a word\'s phonemes one step at a time. ' +
        'Each step it may look only at what it has already written (the causal mask) and at your letters (cross-attention): both are drawn below.'],
      input: 'Word',
      output: 'Pronunciation',
    };
  }
  const rest = 'Each step it may look only at what came before it in that one sequence (the causal mask): it has no encoder and no ' +
    'cross-attention, so masked self-attention is also how it reads its input. Both are drawn below.';
  if (c.target_vocab.sep) {
    return {
      title: 'Watch a decoder-only Transformer spell out how a word sounds',
      text: ['A decoder-only (GPT-style) Transformer (', 'link', '), running in your browser, reads your word\'s letters and a separator ' +
        'as the start of one sequence, then writes the phonemes one step at a time. ' + rest],
      input: 'Word',
      output: 'Pronunciation',
    };
  }
  return {
    title: 'Watch a decoder-only Transformer continue a sequence',
    text: ['A decoder-only (GPT-style) Transformer (', 'link', '), running in your browser, continues your prompt one token at a time. ' + rest],
    input: 'Prompt',
    output: 'Output',
  };
}
