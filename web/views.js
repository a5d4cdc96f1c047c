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
