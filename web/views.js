// The four matrices the page can show, and what to say about each. `part` names the box of the decoder
// diagram that produces the view.
export const VIEWS = [
  { id: 'mask', tab: 'Causal mask', part: 'mask' },
  { id: 'self', tab: 'Masked self-attention', part: 'self' },
  { id: 'cross', tab: 'Cross-attention', part: 'cross' },
  { id: 'encoder', tab: 'Encoder self-attention', part: 'encoder' },
];

export const headName = (head, heads) => (head === 'mean' ? `mean of ${heads} heads` : `head ${head + 1}`);

// The two ways the causal-mask tab draws the mask (state.maskOrder): rows as queries, as PyTorch adds it
// to the scores, or rows as keys, as the course's expression `torch.triu(torch.ones(n, n)) == 0` reads.
export const MASK_ORDERS = {
  'query-key': { label: '[query, key]', title: '[query, key], as PyTorch adds it to the scores', rowAxis: 'query', colAxis: 'key →' },
  'key-query': { label: '[key, query]', title: '[key, query], as the course\'s expression reads', rowAxis: 'key', colAxis: 'query →' },
};

export function viewTitle(view, { layer, head, heads, maskOrder = 'query-key', causal = true }) {
  const where = `layer ${layer + 1}, ${headName(head, heads)}`;
  switch (view) {
    case 'mask': return causal ? `The causal mask · ${MASK_ORDERS[maskOrder].title}` : 'The causal mask · switched off';
    case 'self': return `${causal ? 'Masked self-attention' : 'Self-attention, mask off'} · ${where}`;
    case 'cross': return `Cross-attention · ${where}`;
    case 'encoder': return `Encoder self-attention · ${where}`;
    default: return '';
  }
}

// Why the upper triangle of masked self-attention is empty: the mask in a parallel pass; stepping, the
// positions after a row did not exist when it was computed (the mask would hide the same cells).
// A decoder-only model's first step is such a pass, over <s> and its prompt.
const EMPTY_TRIANGLE = (teacher, promptPass = false) => (teacher
  ? 'the upper triangle is empty because the mask set those scores to −∞.'
  : promptPass
    ? 'the upper triangle is empty: the first step\'s causal pass over <s> and the prompt set those scores to −∞, and each later row was computed before the positions after it existed.'
    : 'the upper triangle is empty because, stepping, each row was computed before the positions after it existed (a parallel pass gets the same triangle from the mask\'s −∞).');

/** One or two sentences for the view, for the mode the trace was made in. */
export function viewExplanation(view, trace, { maskOrder = 'query-key' } = {}) {
  const unmasked = trace && !trace.causal;
  const teacher = trace?.mode === 'teacher';
  const keysAsRows = maskOrder === 'key-query';
  switch (view) {
    case 'mask':
      return unmasked
        ? 'The mask is switched off: the decoder adds 0 to every score, so each position may attend to every other one, including tokens that come after it.'
        : (keysAsRows
          ? `Drawn with keys as rows and queries as columns, as the course's expression reads: column q is query q, and its −∞ cells lie below the diagonal, the keys after it. ${teacher ? 'The decoder adds' : 'A parallel pass (teacher forcing, as in training) adds'} the transpose of this to its scores. `
          : `Before the softmax ${teacher ? 'the decoder adds' : 'a parallel pass over these tokens (teacher forcing, as in training) adds'} this matrix to its attention scores (row: the query, column: the key): 0 where a position may look, −∞ where it would see the future. `) +
            (teacher
              ? 'That is what lets one parallel pass over the whole reference give each position only its past.'
              : !trace ? ''
              : 'Stepping needs no mask: each step computes one new row, and the positions after it do not exist yet. ' +
                (trace.decoderOnly && trace.input.length > 0
                  ? 'The first step fills the rows and columns of <s> and the prompt at once (one causal pass, masked as drawn); after that the matrix grows by one row and one column with every step.'
                  : 'The matrix grows by one row and one column with every step.'));
    case 'self':
      if (trace?.decoderOnly && !unmasked) {
        const prompt = trace.input.length > 0;
        return `One sequence: <s>, ${prompt ? `the prompt, then ${teacher ? 'the reference fed' : 'what the model writes'}` : 'then every token the model writes'}. ` +
          'Row i is position i (the query) weighing the positions it may see (the keys)' +
          (prompt ? ', prompt included: with no encoder, this is how the model reads its input. ' : ': with no encoder and no prompt, what it wrote is all it reads. ') +
          `Each row sums to 1; ${EMPTY_TRIANGLE(teacher, prompt)}`;
      }
      return unmasked
        ? `Without the mask the upper triangle fills in: rows now draw on ${trace?.decoderOnly ? 'positions' : 'phonemes'} later in the sequence, information a decoder writing one step at a time never has.`
        : 'Row i is decoder position i (the query) weighing the positions it may see (the keys); each row sums to 1. ' +
            `${EMPTY_TRIANGLE(teacher).replace(/^t/, 'T')} The outlined row is the one that produced the selected phoneme.`;
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
      output: 'Sequence',  // (the strip holds the letters and <sep> it was given, then the phonemes)
    };
  }
  return {
    title: 'Watch a decoder-only Transformer continue a sequence',
    text: ['A decoder-only (GPT-style) Transformer (', 'link', '), running in your browser, continues your prompt one token at a time. ' + rest],
    input: 'Prompt',
    output: 'Output',
  };
}

/** What the decoder reads at the bottom of the diagram, for the mode of the trace. */
export function fedCaption(trace, hasCross) {
  if (trace?.mode === 'teacher') return hasCross ? 'the reference, fed whole' : 'prompt, then the reference';
  // (an invention has no prompt: a decoder-only model then reads only what it wrote)
  return hasCross || (trace && trace.input.length === 0) ? 'its own output so far' : 'the prompt, then its output';
}

/** The note that replaces the transport in teacher forcing, with the causal mask on or off. */
export function teacherNote(causal) {
  return causal
    ? 'Teacher forcing has no steps: the decoder reads the whole reference at once, one row per position, and the causal mask keeps each row to its past.'
    : 'Teacher forcing has no steps: the decoder reads the whole reference at once, one row per position. The causal mask is switched off, so each row also sees the positions after it.';
}

/**
 * Whether sampling settings { temperature, topK, topP } change the model's distribution (a run's settings;
 * an invention's have none of them: T = 1, no cut).
 */
export const reshapes = ({ temperature = 1, topK = 0, topP = 1 } = {}) => temperature !== 1 || topK > 0 || topP < 1;

/**
 * The sentence over the next-token bars for a sampled step (no colour named: the bars show it): how the
 * sampled token was drawn, with the run's settings. The grey bars behind are drawn only when they reshape
 * the model's distribution.
 */
export function sampledNote(token, settings = {}) {
  const { temperature = 1, topK = 0, topP = 1 } = settings;
  const cuts = [topK > 0 ? `top-k ${topK}` : '', topP < 1 ? `top-p ${topP}` : ''].filter(Boolean);
  if (!reshapes(settings)) return `Sampled ${token} from the model's own distribution, softmax(logits) (T = 1, no top-k or top-p cut): the bars.`;
  return `Sampled ${token} from softmax(logits / T), T = ${temperature}${cuts.length ? `, cut to ${cuts.join(' and ')}` : ''}: the bars; behind them in grey, the model's own distribution (T = 1).`;
}

/** The label of the bar that gathers every token not drawn, so that the bars add up to 100 %. */
export const OTHERS_LABEL = 'all others';

// The causal-mask tab's tensors (panels/mask_tensors.js): the course's expression read literally, PyTorch's
// mask, and how the two relate.
export const MASK_TENSORS = {
  orderLabel: 'draw the mask as',
  empty: 'No position yet, so no mask: press Step → and it appears with the first row, 1 × 1.',
  literal: (n) => `torch.triu(torch.ones(${n}, ${n})) == 0   # the course's expression, its literal value (row i, column j)`,
  literalNote: 'Read with rows as queries, True sits strictly below the diagonal: it would hide the past and let each position see the future. It marks the future only read with rows as keys, that is transposed.',
  pytorch: (n) => `M = nn.Transformer.generate_square_subsequent_mask(${n})   # [query, key]: −∞ strictly above the diagonal`,
  relation: (holds, n) => (holds
    ? `(M == -inf) == future.T   # True in every cell for n = ${n}: PyTorch's mask is the course's expression transposed`
    : `(M == -inf) == future.T   # does not hold for n = ${n}`),
  switchedOff: 'This run switched the mask off: the decoder adds torch.zeros(n, n) instead of M.',
};
