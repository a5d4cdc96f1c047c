// Teacher forcing as training: what one teacher-forced pass means for the model's training, computed from
// a teacher-forced trace (web/session.js) and two more runs of the same word. No DOM here.
//
//   loss      the pass's −log p of each next token and their means (the engine's sequence_loss, the
//             definition of tools/train_g2p.py, tested against PyTorch); with the mask off, also the loss
//             of the masked pass, the one training computes
//   stepped   the same reference fed one step at a time with the KV cache (run.replaceLast feeds the
//             reference's token in place of the model's choice): its self-attention rows, to set beside
//             the teacher-forced ones, and how far the two are apart
//   exposure  where the model's own greedy output first departs from the reference, and what it predicts
//             next when fed the reference's token there vs its own
import { rowsOf } from './attention.js';
import { softmax } from './session.js';

const TOP = 5;

// Copies of [layer][head] rows, each padded with zeros to `width` (a step's row i holds its i + 1 keys).
const padded = (row, width) => {
  const out = new Float32Array(width);
  out.set(row.subarray(0, Math.min(width, row.length)));
  return out;
};

/** The `n` most likely tokens of a distribution: [{ id, token, p }], most likely first. */
export function topTokens(probs, tokens, n = TOP) {
  return Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, n).map((id) => ({ id, token: tokens[id], p: probs[id] }));
}

// The reference fed one step at a time, from row `first` (a decoder-only model's first step reads <s> and
// the prompt and shows only the prompt's last row): per row its self-attention [layer][head] padded to
// T keys, and its logits.
function stepReference(model, word, ids, first) {
  const T = ids.length;
  const run = model.start(word, { strategy: 'greedy' });
  const rows = [];
  try {
    for (let i = first; i < T && !run.done; i++) {
      const r = run.step();
      rows.push({ self: r.selfAttention.map((layer) => layer.map((row) => padded(row, T))), logits: r.logits.slice() });
      if (i + 1 < T) run.replaceLast(ids[i + 1]);  // fed next: the reference's token, whatever was chosen
    }
  } finally {
    run.dispose();
  }
  return rows;
}

/**
 * Where the model's own greedy output first departs from the reference (`reference`: the ids fed after <s>
 * and the prompt, then </s>), with the two distributions at the position after it: fed the reference's token
 * (from the stepped reference, `steppedProbs[k]` being the distribution after reference token k - 1) and fed
 * its own. Null when the greedy output is the reference, token for token.
 */
function departure(model, greedy, reference, steppedProbs) {
  const tokens = model.targetTokens;
  let k = 0;
  while (k < reference.length && k < greedy.ids.length && greedy.ids[k] === reference[k]) k++;
  if (k === reference.length && k === greedy.ids.length) return null;
  const atLimit = k >= greedy.ids.length;  // the own run stopped at the length limit before position k
  const here = atLimit ? null : greedy.probs[k];
  const refToken = reference[k];
  const ownToken = atLimit ? null : greedy.ids[k];
  // the most likely tokens, the one the sequence goes on with among them (in the last bar when it is not)
  const next = (probs, goesOn) => {
    if (!probs) return null;
    const top = topTokens(probs, tokens);
    if (goesOn !== undefined && !top.some((t) => t.id === goesOn)) top[top.length - 1] = { id: goesOn, token: tokens[goesOn], p: probs[goesOn] };
    return top;
  };
  return {
    position: k,                                  // index among the tokens after <s> (and the prompt)
    reference: tokens[refToken],
    referenceP: here ? here[refToken] : null,     // at position k, both read the same prefix
    own: ownToken === null ? null : tokens[ownToken],
    ownP: here && ownToken !== null ? here[ownToken] : null,
    atLimit,
    // what comes next, fed the reference's token / its own (null: that sequence ended there)
    fedReference: refToken === model.eos ? null : next(steppedProbs[k + 1] ?? null, reference[k + 1]),
    fedOwn: atLimit || ownToken === model.eos ? null : next(greedy.probs[k + 1] ?? null, greedy.ids[k + 1]),
    referenceRest: reference.slice(k + 1).map((id) => tokens[id]),
    ownRest: atLimit ? [] : greedy.ids.slice(k + 1).map((id) => tokens[id]),
  };
}

/**
 * What the training panel shows for a teacher-forced trace `t` (mode 'teacher', t.loss set by its pass),
 * the word, the text fed, and `greedy`: the model's own greedy run on the word, { ids (</s> included when
 * it ended), probs (each step's distribution) }, which the session has already decoded. Rows are decoder positions; rows before `first` (a decoder-only model's <s> and
 * prompt but its last token) are not shown by a step.
 */
export function trainingOf(model, word, t, targetText, greedy) {
  const T = t.queries.length;
  const first = t.promptRows;
  const ids = [model.bos, ...t.producedIds.slice(0, T - 1)];  // what the pass fed: <s>, the prompt, the reference
  const stepped = stepReference(model, word, ids, first);
  const L = t.self.length;
  const H = L ? t.self[0].length : 0;
  let maxDiff = 0;
  stepped.forEach((row, k) => {
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const forced = t.self[l][h][first + k];
        const step = row.self[l][h];
        for (let j = 0; j < T; j++) maxDiff = Math.max(maxDiff, Math.abs((forced[j] ?? 0) - step[j]));
      }
    }
  });
  // The masked pass's loss (the one training computes): this pass's when the mask is on, else its own pass.
  const masked = t.causal ? t.loss : (() => {
    const r = model.forward(word, targetText, { causal: true });
    return { ...r.loss, nll: Array.from(r.loss.nll) };
  })();
  const steppedProbs = stepped.map((row) => softmax(row.logits));
  const reference = [...t.producedIds.slice(first)];  // the reference after <s> and the prompt, then </s>
  return {
    positions: T,
    first,
    causal: t.causal,
    loss: t.loss,        // this pass's: { nll[T], crossEntropy, smoothed, labelSmoothing }
    maskedLoss: masked,  // the same with the causal mask (what training computes)
    stepped: {
      first,
      self: Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => stepped.map((row) => row.self[l][h]))),
      maxDiff,
    },
    greedy: greedy.ids.map((id) => model.targetTokens[id]),
    reference: reference.map((id) => model.targetTokens[id]),
    departure: departure(model, greedy, reference, steppedProbs),
  };
}

/**
 * The two self-attention matrices set side by side for one layer and head ('mean': the mean of the layer's
 * heads) of a teacher-forced trace: the pass's rows and the stepped ones, from row `first` on, each padded
 * to the T keys, and the largest absolute difference between them.
 */
export function twinRows(trace, layer, head) {
  const tr = trace.training;
  const T = trace.queries.length;
  const forcedSource = trace.self.map((heads) => heads.map((rows) => rows.slice(tr.first)));
  const forced = rowsOf(forcedSource, layer, head, T);
  const stepped = rowsOf(tr.stepped.self, layer, head, T);
  let maxDiff = 0;
  for (let i = 0; i < stepped.length; i++) for (let j = 0; j < T; j++) maxDiff = Math.max(maxDiff, Math.abs(forced[i][j] - stepped[i][j]));
  return { forced, stepped, maxDiff, first: tr.first, rowLabels: trace.queries.slice(tr.first), colLabels: trace.queries, rowNotes: trace.produced.slice(tr.first).map((p) => `→ ${p}`) };
}

/** window.stepwiseState's copy of a teacher-forced trace's training view, as plain values (web/snapshot.js). */
export function trainingSnapshot(trace, { layer, head }) {
  const tr = trace.training;
  const plain = (loss) => ({ nll: [...loss.nll], crossEntropy: loss.crossEntropy, smoothed: loss.smoothed, labelSmoothing: loss.labelSmoothing });
  const twins = twinRows(trace, layer, head);
  return {
    causal: tr.causal,
    first: tr.first,
    loss: plain(tr.loss),
    maskedLoss: plain(tr.maskedLoss),
    maxDiff: tr.stepped.maxDiff,
    shown: { layer, head, maxDiff: twins.maxDiff, forced: twins.forced.map((r) => Array.from(r)), stepped: twins.stepped.map((r) => Array.from(r)) },
    greedy: [...tr.greedy],
    reference: [...tr.reference],
    departure: tr.departure ? JSON.parse(JSON.stringify(tr.departure)) : null,
  };
}
