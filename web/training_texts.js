// The words of "Teacher forcing as training" (web/panels/training.js), kept apart from the drawing: each one
// a function of what is true in the state shown (the causal mask on or off, a decoder-only model, where the
// model's own output departs from the reference).

export const TRAINING_TITLE = 'Teacher forcing is how the model is trained';

/** The paragraph under the title. */
export function trainingLede({ causal }) {
  return causal
    ? 'This pass is one training example. Its loss is the mean of −log p of each next reference token, and because ' +
      'teacher forcing feeds the whole reference at once, one pass computes every position\'s prediction: training ' +
      'takes the gradient of all of them in one backward pass, not one step at a time.'
    : 'The causal mask is off, so this pass is not what training computes: every row also sees the tokens after it, ' +
      'for each row but the last the very token it must predict. Training keeps the mask; its loss, from the masked ' +
      'pass, stands beside this one.';
}

/** The note over the loss table. */
export function lossNote({ decoderOnly, causal }) {
  const rows = decoderOnly
    ? 'One row per position of the sequence, the prompt\'s too: tools/train_g2p.py trains a decoder-only model to predict every next token, the prompt\'s included. '
    : 'One row per decoder position: the token fed, the reference token it should predict next (</s> after the last), and the probability the model gives it. ';
  return rows + (causal ? 'The bars are −log p: the longer, the more that position adds to the loss.' : 'The bars are −log p of this pass, without the mask.');
}

export const COLUMN = {
  position: 'position',
  fed: 'fed',
  next: 'next (reference)',
  p: 'p',
  pOpen: 'p, no mask',
  nll: '−log p',
  nllOpen: '−log p, no mask',
  nllMasked: 'with the mask',
};

/** The label smoothing each shipped model was trained with, as its card says (weights/NAME.md), by file name. */
export const TRAINED_WITH = { 'g2p-cmudict.safetensors': 0.1, 'g2p-cmudict-decoder-only.safetensors': 0 };

/**
 * The labels of the two totals, exactly what each number is; trainedWith: the label smoothing the model in
 * use was trained with, when the page knows it (a shipped model: TRAINED_WITH), else undefined.
 */
export function totalLabels(n, epsilon, trainedWith) {
  const minimised = (flag) => `what this model was trained to minimise (tools/train_g2p.py --label-smoothing ${flag})`;
  return {
    crossEntropy: `cross-entropy: the mean of −log p over the ${n} positions, in nats${trainedWith === 0 ? `: ${minimised(0)}` : ''}`,
    crossEntropyCode: 'F.cross_entropy(logits, next_tokens)',
    smoothed: `cross-entropy with label smoothing ε = ${epsilon}: the mean of (1 − ε)·(−log p) + ε·(the mean of −log p_v over every token v), in nats: ` +
      (trainedWith === epsilon ? `${minimised(epsilon)}, the script's default`
        : trainedWith === 0 ? `what tools/train_g2p.py minimises by default (--label-smoothing ${epsilon}); this model was trained without it`
          : `what tools/train_g2p.py minimises by default (--label-smoothing ${epsilon}; a model's card says what it was trained with)`),
    smoothedCode: `F.cross_entropy(logits, next_tokens, label_smoothing=${epsilon})`,
  };
}

export const TWINS_TITLE = (where, causal) => `${causal ? 'Masked self-attention' : 'Self-attention, mask off in the pass'} · ${where}: one pass vs step by step`;

export function twinsNote({ decoderOnly, first }) {
  const base = 'The teacher-forced pass, and the same reference fed one step at a time: each step appends its key and value to the KV cache and reads only the cache (what the model does when it writes, here fed the reference\'s tokens instead of its own).';
  return decoderOnly
    ? `${base} Rows from position ${first} (the prompt's last token) on: the earlier ones a step computes but does not show.`
    : base;
}

export const TWIN_CAPTIONS = {
  forced: (causal) => `teacher-forced, one pass (causal mask ${causal ? 'on' : 'off'})`,
  stepped: 'step by step, with the KV cache',
};

/** What the hatched cells of the two matrices are. */
export const twinsLegend = (causal) => (causal
  ? 'Colour: the attention weight, 0 to 1. Hatched in the one pass: masked (−∞ before the softmax); step by step: not in the cache yet, so never scored.'
  : 'Colour: the attention weight, 0 to 1. Hatched (step by step only): not in the cache yet, so never scored; the one pass, without the mask, scores every key.');

const delta = (x) => (x === 0 ? '0' : x < 1e-3 ? x.toExponential(1) : x.toFixed(3));

/** The sentence under the two matrices: their largest difference, and why it is what it is. */
export function twinsDiff({ causal, shown, all, layers, heads }) {
  const numbers = `max |Δ| = ${delta(shown)} between these two matrices (over all ${layers} layers × ${heads} heads: ${delta(all)})`;
  return causal
    ? `${numbers}: ${all === 0 ? 'identical' : 'float rounding'}. With the causal mask the parallel pass computes, row for row, what the decoder computes one step at a time.`
    : `${numbers}. Without the mask the teacher-forced rows attend to later tokens (the upper triangle); a step cannot, because those tokens are not in its cache yet.`;
}

export const EXPOSURE_TITLE = 'Exposure bias: where the model\'s own output departs from the reference';

export const EXPOSURE_LABELS = { reference: 'reference', own: 'its own (greedy)' };

/** The sentence at the departure: what each continues with at position k. */
export const departureText = ({ prefix, reference, referenceP, own, ownP }, percent) =>
  `After “${prefix}”, the reference continues with ${reference} (p = ${percent(referenceP)}) but the model's top choice is ${own} (p = ${percent(ownP)}).`;

export const departureAtLimit = (prefix, reference) =>
  `After “${prefix}” the reference continues with ${reference}, but the model's own run stopped there: it reached the length limit.`;

export const FED_REFERENCE = (token) => `Fed the reference's ${token}, it predicts`;
export const FED_OWN = (token) => `Fed its own ${token}, it predicts`;
export const REFERENCE_GOES_ON = (token) => `(highlighted: ${token}, where the reference goes on)`;
export const OWN_GOES_ON = (token) => `(highlighted: ${token}, what it wrote next)`;
export const REFERENCE_ENDS = 'The reference ends here with </s>: nothing is fed after it.';
export const OWN_ENDS = 'Its own output ends here with </s>: nothing is fed after it.';

export const EXPOSURE_WHY =
  'Training (teacher forcing) feeds only the reference, never the model\'s own output; when it writes, every token it ' +
  'chooses is fed back, so after one departure each later row reads a prefix that training did not feed it for this ' +
  'word. This gap between training and inference is called exposure bias.';

export const noDeparture = (tokens) =>
  `No departure: the model's own greedy output is the reference, token for token (${tokens}). Fed the reference or its own output, every row reads the same prefix, so here training and writing agree all the way.`;

export const EXPOSURE_STEPPED =
  'Both columns come from step-by-step runs, which see only their past whatever the causal-mask switch says.';
