// The words of "Open the box" (web/panels/inside_head.js, residual.js, code.js, kv_cache.js), kept apart
// from the drawing code so that a teacher can change them without touching it. Each text is a string or a
// function of what it describes (the model's configuration `c`, the numbers in play).

/** The sub-steps of one attention head, in order (inside_head.js walks them with [ and ], ← and →). */
export const HEAD_STAGES = [
  {
    id: 'qk',
    title: 'q and the keys',
    text: ({ kind, dk, keys, teacherForced, causal = true }) => kind === 'self'
      ? (teacherForced
        ? `This position's query q (its ${dk} numbers in this head) and the keys of all ${keys} positions the teacher-forced pass fed, one row each${causal ? ': the mask (sub-step 4) hides the later ones' : ', all of them read: the causal mask is off'}.`
        : `This position's query q (its ${dk} numbers in this head) and the keys of the ${keys} positions written so far, one row each.`)
      : `This position's query q (its ${dk} numbers in this head) and the keys of your ${keys} letters, made once from the encoder's output.`,
  },
  {
    id: 'raw',
    title: 'q · k_j',
    text: () => 'One dot product per key: the d_k products q_i k_ji summed. A large value means “this key answers my question”.',
  },
  {
    id: 'scaled',
    title: '÷ √d_k',
    text: ({ dk }) => `Divided by √d_k = √${dk} = ${Math.sqrt(dk).toPrecision(4)}, so the scores do not grow with the head's width and the softmax stays soft. (The engine, like PyTorch, divides q before the dot products.)`,
  },
  {
    id: 'mask',
    title: '+ mask',
    text: ({ kind, teacherForced, causal = true }) => {
      if (kind === 'cross') return 'Cross-attention has no mask: every letter of the word is there from the start, and every position may look at all of them.';
      if (teacherForced && !causal) return 'Teacher forcing computes every row at once, so row i also holds scores for the positions after it; the causal mask is off, so nothing is added (the mask row is all 0) and the softmax gives those later positions weight too: row i reads the future.';
      if (teacherForced) return 'Teacher forcing computes every row at once, so row i also holds scores for the positions after it: the mask adds −∞ there (0 elsewhere) and the softmax turns them into exactly 0.';
      return 'Nothing to mask: stepping, the cache holds only positions 0 … i, so the future is simply not there yet. The teacher-forced pass over the same tokens computes every row at once and needs the mask; its row is below.';
    },
  },
  {
    id: 'weights',
    title: 'softmax',
    text: ({ kind, layer, head }) => `exp of each score, divided by their sum: the weights are positive and add up to 1. They are this row of the ${kind === 'cross' ? 'cross-attention' : 'masked self-attention'} heatmap of layer ${layer + 1}, head ${head + 1} (the explorer above, with that tab, layer and head chosen).`,
  },
  {
    id: 'context',
    title: 'Σ w_j v_j',
    text: ({ dk }) => `The head's output: the value rows averaged with these weights, ${dk} numbers.`,
  },
  {
    id: 'concat',
    title: 'concat heads',
    text: ({ heads, dModel }) => `The ${heads} heads' outputs side by side: ${dModel} numbers (this head's part outlined).`,
  },
  {
    id: 'output',
    title: 'W_O',
    text: () => 'One linear layer (out_proj: W_O x + b_O) mixes the heads: the block\'s output, which is added to the residual stream.',
  },
];

export const HEAD_KIND = {
  self: 'Masked self-attention',
  cross: 'Cross-attention',
};

export const BEAM_NOTE = 'Beam search keeps several hypotheses per step and the engine has no probe for it: choose Greedy or Sampling to open the box.';
export const NO_STEP_NOTE = 'Press Step → for the first decoder step: its numbers appear here.';
export const DECODER_ONLY_NOTE = 'A decoder-only model has no encoder and no cross-attention boxes: what it reads (the prompt, the tokens it wrote) reaches it through masked self-attention alone.';

export const rowNote = ({ row, token, produced, teacherForced, prompt = false, promptRows = 0 }) => prompt
  ? `Position ${row} reads ${token}, part of the prompt: the first step computes this row with the prompt's last one (shown from one causal pass over <s> and the prompt); the prompt continues with ${produced}.`
  : teacherForced
    ? `Row ${row} of the teacher-forced pass: position ${row} reads ${token} and predicts ${produced}.`
    : `Step ${row - promptRows + 1}: position ${row} reads ${token} and produced ${produced}.`;

/** Why a decoder-only model shows no cross-attention, in one sentence. */
export const NO_ENCODER_NOTE = 'A decoder-only model has no encoder: it reads its input through masked self-attention over the sequence\'s earlier positions, so there is no cross-attention.';

/**
 * The boxes of the decoder block (web/panels/diagram.js draws them; residual.js explains the lit one).
 * caption(c) says what the box does in the loaded model.
 */
export const BOXES = {
  embed: {
    title: 'Embedding + position',
    caption: (c) => `The token's row of the embedding table${c.scale_embedding ? `, times √d_model = √${c.d_model}` : ''}, plus the ${c.positional_encoding === 'learned' ? 'learned' : 'sinusoidal'} position vector: the residual stream entering layer 1.`,
  },
  norm1: { title: 'LayerNorm 1', caption: (c) => normCaption(c, 'masked self-attention') },
  self: {
    title: 'Masked self-attention',
    // teacher: the row comes from the teacher-forced pass; causal: whether that pass masked the future
    caption: (c, { teacher = false, causal = true } = {}) => `${c.n_heads} heads over ${!teacher ? 'the positions so far (the KV cache)' : causal ? 'this position and the ones before it (the causal mask), every row in one pass' : 'every position, the later ones too (the causal mask is off), every row in one pass'}. Its output is added to the stream${c.norm_first ? '' : ', then normalised'}.`,
  },
  norm2: { title: 'LayerNorm 2', caption: (c) => normCaption(c, c.architecture === 'encoder-decoder' ? 'cross-attention' : 'the feed-forward') },
  cross: {
    title: 'Cross-attention',
    caption: (c) => `${c.n_heads} heads over the encoder's reading of the letters. Its output is added to the stream${c.norm_first ? '' : ', then normalised'}.`,
  },
  norm3: { title: 'LayerNorm 3', caption: (c) => normCaption(c, 'the feed-forward') },
  ffn: {
    title: 'Feed-forward',
    caption: (c) => `linear2(${c.activation}(linear1(x))): ${c.d_model} → ${c.d_ff} units → ${c.d_model}, the same for every position.`,
  },
  final: {
    title: 'Final LayerNorm',
    caption: (c) => `The stack's last LayerNorm (nn.${c.architecture === 'encoder-decoder' ? 'TransformerDecoder' : 'TransformerEncoder'}(norm=...)), applied once, after the last layer.`,
  },
  next: {
    title: 'Linear + softmax',
    caption: () => 'One logit per token: the normalised stream dotted with the token\'s row of the output layer, plus its bias. The page does not hold the output weights, so the logit shown is the engine\'s (run.step() returns the logits); softmax turns the logits into the probabilities on the right.',
  },
};

function normCaption(c, sublayer) {
  return c.norm_first
    ? `Pre-norm: normalises the stream before ${sublayer}; the stream itself passes by it, unnormalised, to the add.`
    : `Post-norm (Add & Norm): adds ${sublayer}'s output to the stream, then normalises the sum: that is the new stream.`;
}

export const CONTRIBUTION = ({ ratio }) => `‖output‖ / ‖stream in‖ = ${ratio}: how much this box adds to the residual stream, relative to what was there.`;
export const HIDDEN_NOTE = ({ active, total, activation }) => activation === 'relu'
  ? `${active} of ${total} units fire (> 0); relu sets the rest to exactly 0.`
  : `${active} of ${total} units are positive; gelu lets small negative values through.`;
export const LOGIT_NOTE = 'logit = final_normed · W_out[token] + b_out[token]: the vector on the left is final_normed as the engine recorded it; the logit is the engine\'s value (the page does not hold W_out).';

/** The PyTorch a box corresponds to, with the loaded model's hyper-parameters (lines of code). */
export function pytorchLines(box, c) {
  const dk = c.d_model / c.n_heads;
  const layerClass = c.architecture === 'encoder-decoder' ? 'TransformerDecoderLayer' : 'TransformerEncoderLayer';
  const layer = `layer = nn.${layerClass}(d_model=${c.d_model}, nhead=${c.n_heads}, dim_feedforward=${c.d_ff}, dropout=0.0, activation="${c.activation}", layer_norm_eps=${c.layer_norm_eps}, batch_first=True, norm_first=${c.norm_first ? 'True' : 'False'})`;
  const stack = c.architecture === 'encoder-decoder'
    ? `decoder = nn.TransformerDecoder(layer, num_layers=${c.n_decoder_layers}, norm=nn.LayerNorm(${c.d_model}))`
    : `decoder = nn.TransformerEncoder(layer, num_layers=${c.n_decoder_layers}, norm=nn.LayerNorm(${c.d_model}))  # decoder-only: a causal "encoder" stack`;
  const mask = 'mask = nn.Transformer.generate_square_subsequent_mask(T)   # 0 / -inf, for the teacher-forced pass';
  const call = c.architecture === 'encoder-decoder' ? 'y = decoder(x, memory, tgt_mask=mask)' : 'y = decoder(x, mask=mask, is_causal=True)';
  switch (box) {
    case 'embed':
      return [
        `tgt_embed = nn.Embedding(${c.target_vocab?.tokens?.length ?? 'V'}, ${c.d_model})`,
        c.scale_embedding ? `x = tgt_embed(tokens) * math.sqrt(${c.d_model})` : 'x = tgt_embed(tokens)',
        c.positional_encoding === 'learned' ? `x = x + tgt_pos(torch.arange(T))   # nn.Embedding(${c.max_target_len}, ${c.d_model})` : 'x = x + pe[:T]   # sinusoidal: sin / cos of pos / 10000^(2i/d)',
      ];
    case 'norm1': case 'norm2': case 'norm3': {
      const sub = { norm1: 'self_attn', norm2: c.architecture === 'encoder-decoder' ? 'multihead_attn' : 'ff', norm3: 'ff' }[box];
      const call2 = sub === 'ff' ? 'ff' : `${sub}(…)`;
      return [
        `layer.${box} = nn.LayerNorm(${c.d_model}, eps=${c.layer_norm_eps})`,
        c.norm_first ? `x = x + ${call2}(layer.${box}(x))            # norm_first=True` : `x = layer.${box}(x + ${call2}(x))            # norm_first=False`,
      ];
    }
    case 'self':
      return [
        layer,
        `layer.self_attn = nn.MultiheadAttention(${c.d_model}, ${c.n_heads})   # d_k = ${c.d_model} / ${c.n_heads} = ${dk}`,
        mask,
        'sa = layer.self_attn(x, x, x, attn_mask=mask)[0]   # softmax(Q Kᵀ / √d_k + mask) V, then out_proj',
      ];
    case 'cross':
      return [
        layer,
        `layer.multihead_attn = nn.MultiheadAttention(${c.d_model}, ${c.n_heads})   # d_k = ${dk}`,
        'ca = layer.multihead_attn(x, memory, memory)[0]   # keys and values from the encoder, no mask',
      ];
    case 'ffn':
      return [
        `layer.linear1 = nn.Linear(${c.d_model}, ${c.d_ff}); layer.linear2 = nn.Linear(${c.d_ff}, ${c.d_model})`,
        `ff = layer.linear2(F.${c.activation}(layer.linear1(x)))`,
      ];
    case 'final':
      return [stack, call, `# nn.${c.architecture === 'encoder-decoder' ? 'TransformerDecoder' : 'TransformerEncoder'} applies \`norm\` after the last layer`];
    case 'next':
      return [
        `generator = nn.Linear(${c.d_model}, ${c.target_vocab?.tokens?.length ?? 'V'})${c.tie_output ? '   # weight tied to tgt_embed.weight' : ''}`,
        'logits = generator(y[:, -1])',
        'probs = logits.softmax(-1)',
      ];
    default:
      return [layer, stack];
  }
}

/**
 * The cost of one step in multiply-adds, from the sizes alone (kv_cache.js computes them with
 * stepCost()): with the cache, and recomputing every position of the prefix instead.
 */
export const KV_FORMULA = ({ cross }) => cross
  ? 'With the cache, position p costs per layer 4d² (q, k, v and W_O of one row) + 2d(p + 1) (scores and weighted sum over the p + 1 cached keys) + 2d² + 2dS (cross-attention: q and W_O, and the S letters, whose keys and values were made once) + 2·d·d_ff (feed-forward); ×L layers. Without it, step p runs the whole prefix again: the sum of that cost over positions 0 … p. (The output layer, the same both ways, is left out.)'
  : 'With the cache, position p costs per layer 4d² (q, k, v and W_O of one row) + 2d(p + 1) (scores and weighted sum over the p + 1 cached keys) + 2·d·d_ff (feed-forward); ×L layers. Without it, step p runs the whole prefix again: the sum of that cost over positions 0 … p. (The output layer, the same both ways, is left out.)';

/** Multiply-adds of the decoder layers for position p with the KV cache (see KV_FORMULA). */
export function stepCost(c, p, S) {
  const d = c.d_model;
  const cross = c.architecture === 'encoder-decoder' ? 2 * d * d + 2 * d * S : 0;
  return c.n_decoder_layers * (4 * d * d + 2 * d * (p + 1) + cross + 2 * d * c.d_ff);
}

export const KV_NOTE = {
  steps: 'Each step appends one row (outlined) to each layer\'s key and value cache and reads all of them; the cross-attention keys and values were computed once, from the encoder, before the first step.',
  // a decoder-only model: no cross-attention cache; its first step fills the rows of <s> and the prompt at once
  stepsDecoderOnly: 'Each step appends one row (outlined) to each layer\'s key and value cache and reads all of them. A decoder-only model has no encoder, so there is no cross-attention cache.',
  stepsPrompt: (rows) => `The first step filled ${rows} rows at once, <s> and the prompt, in one causal pass (its last row outlined); each step after it appends one row (outlined) to each layer's key and value cache and reads all of them. A decoder-only model has no encoder, so there is no cross-attention cache.`,
  teacher: 'Teacher forcing has no cache: one pass computes the keys and values of every position at once, and the mask keeps each row from reading the later ones.',
  teacherOpen: 'Teacher forcing has no cache: one pass computes the keys and values of every position at once; the causal mask is off, so each row reads the later ones too.',
};

/** The engine's regions (`// [box: NAME]` in src/engine/transformer.cpp) shown for each box. */
export const BOX_REGIONS = {
  embed: ['embed'],
  norm1: ['residual', 'layer-norm'],
  norm2: ['residual', 'layer-norm'],
  norm3: ['residual', 'layer-norm'],
  self: ['self-attention', 'attend', 'softmax'],
  cross: ['cross-attention', 'attend'],
  ffn: ['feed-forward', 'activation'],
  final: ['final-norm', 'layer-norm'],
  next: ['output'],
};
export const CODE_MISSING = 'The engine\'s lines are written into the site by tools/build_site.mjs (site/engine_source.js); this page was opened without them.';
