// What the page shows, computed: one word run through the model, step by step or teacher-forced, recorded
// as plain arrays (copies, never views into the module's memory) that the page draws. No DOM here.
//
// A trace describes the decoder's rows: row i is decoder position i, whose input token is queries[i]
// ("<s>" first) and which produced the token produced[i]. A decoder-only model has one sequence: <s>, its
// prompt (trace.input, in the target vocabulary: a G2P model's letters then <sep>), then what it writes;
// its first `promptRows` rows read <s> and the prompt, and their "produced" tokens are the prompt's own
// (given, not chosen). For every layer l and head h:
//   self[l][h][i]   the masked self-attention row of position i (keys 0..n-1; masked keys hold 0)
//   cross[l][h][i]  its cross-attention row over the input letters
//   encoder[l][h][i] the encoder self-attention row of letter i (no mask)
// plus, per row, the next-token distribution it produced (dist[i]).
//
// "Open the box" (greedy and sampling runs, started with { probe: true }; and every teacher-forced pass):
// inside[i] is what the engine recorded inside row i (copies of run.inside()'s views; see insideRow()),
// insideShared the encoder's output and the cross-attention keys and values, the same for every row.
// A teacher-forced trace also holds the pass's training loss (loss: run.forward()'s, copied) and what the
// pass means for training (training: the reference stepped through the KV cache, exposure bias; web/training.js).
import { StepwiseError } from './stepwise.js';
import { trainingOf } from './training.js';

const emptyHeads = (layers, heads) => Array.from({ length: layers }, () => Array.from({ length: heads }, () => []));

/** softmax of a logits row (the model's own distribution, temperature 1). */
export function softmax(logits) {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// Row i of a row-major matrix with `width` columns, its first `keep` entries, as a copy.
const rowOf = (matrix, i, width, keep = width) => matrix.slice(i * width, i * width + keep);

/** Decoding options for the wrapper from the page's settings. */
export function decodeOptions(settings) {
  const { strategy, temperature, topK, topP, seed, beamWidth, lengthPenalty } = settings;
  if (strategy === 'sample') return { strategy, temperature, topK, topP, seed };
  if (strategy === 'beam') return { strategy, beamWidth, nBest: beamWidth, lengthPenalty };
  return { strategy: 'greedy' };
}

// A decoder-only G2P model's letters: one-character lowercase tokens (as choices.js and the CLI's invent
// count them).
const isLetter = (model, id) => {
  const t = model.targetTokens[id];
  return ![model.bos, model.eos, model.pad].includes(id) && t !== model.config.target_vocab.sep && [...t].length === 1 && t.toLowerCase() === t;
};

export class DecoderSession {
  #run = null;

  /**
   * Starts `word` on `model`. settings: { mode: 'steps' | 'teacher', strategy, temperature, topK, topP,
   * seed, beamWidth, causal, target }. Throws StepwiseError (the engine's message) for a bad input or
   * bad options; a teacher-forced session computes everything at once.
   */
  constructor(model, word, settings) {
    this.model = model;
    this.settings = { ...settings };
    const c = model.config;
    this.layers = c.n_decoder_layers;
    this.heads = c.n_heads;
    this.decoderOnly = !model.encoderDecoder;
    const invent = Boolean(settings.invent);
    // Inventing: a decoder-only G2P model steps from <s> alone, sampling (temperature 1, the seed given)
    // its letters, <sep> and their phonemes: a run started on '' begins from <s> alone, and the engine
    // chooses every token.
    const options = invent ? { strategy: 'sample', temperature: 1, topK: 0, topP: 1, seed: settings.seed }
      : settings.mode === 'teacher' ? { strategy: 'greedy' } : decodeOptions(settings);
    // The probe records greedy and sampling steps (the engine has none for beam search).
    if ((settings.mode === 'steps' || invent) && options.strategy !== 'beam') options.probe = true;
    this.#run = model.start(invent ? '' : word, options);
    try {
      const input = this.#run.input.slice();
      this.trace = {
        mode: invent ? 'steps' : settings.mode,
        strategy: settings.mode === 'teacher' && !invent ? 'teacher' : options.strategy,
        causal: settings.mode === 'teacher' && !invent ? settings.causal : true,
        word,
        invented: invent,  // true: no prompt, every row's token chosen (letters, <sep>, phonemes)
        input,
        decoderOnly: this.decoderOnly,
        // decoder-only: the rows of <s> and the prompt before the first chosen token (0 for encoder-decoder)
        promptRows: this.decoderOnly ? input.length : 0,
        encoder: this.#run.encoderAttention().map((layer) => layer.map((m) => splitRows(m, input.length))),
        queries: [],
        produced: [],
        producedIds: [],
        self: emptyHeads(this.layers, this.heads),
        cross: emptyHeads(this.layers, this.heads),
        dist: [],
        stepMs: [],
        done: false,
        beams: null,
        teacher: null,
        probed: Boolean(options.probe) || settings.mode === 'teacher',
        inside: [],
        insideShared: null,
        counterparts: new Map(),  // row -> its teacher-forced counterpart (teacherCounterpart)
      };
      if (settings.mode === 'teacher') this.#teacherForce(word, settings);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  get done() {
    return this.trace.done;
  }

  get steps() {
    return this.trace.stepMs.length;
  }

  /** One decoder step (step-by-step mode). Returns the trace. */
  step() {
    const t = this.trace;
    if (t.done) return t;
    const run = this.#run;
    const started = performance.now();
    const r = run.step();
    const ms = performance.now() - started;
    t.stepMs.push(ms);
    if (run.beam) {
      this.#recordBeam(r);
      return t;
    }
    // Copies first: the calls below into the module may move its memory.
    const i = r.position;
    const self = r.selfAttention.map((layer) => layer.map((row) => row.slice()));
    const cross = r.crossAttention.map((layer) => layer.map((row) => row.slice()));
    const dist = { probs: r.probs.slice(), logits: r.logits.slice(), chosen: r.id };
    const done = r.done;
    const inside = t.probed ? captureStep(run, this.model) : null;
    t.insideShared ??= t.probed ? captureShared(run, this.model, false) : null;
    // A decoder-only model's first step feeds <s> and the whole prompt, but the engine hands back only the
    // last position's row; the rows before it come from one causal pass over <s> + the prompt (the rows
    // the step computed, as teacher forcing shows they are).
    if (this.decoderOnly && t.queries.length === 0 && i > 0) this.#promptRowsFromForward(i, r.id);
    t.queries.push(i === 0 ? this.model.targetTokens[this.model.bos] : t.produced[i - 1]);
    t.produced.push(r.token);
    t.producedIds.push(r.id);
    for (let l = 0; l < this.layers; l++) {
      for (let h = 0; h < this.heads; h++) {
        t.self[l][h].push(self[l][h]);
        t.cross[l][h].push(cross[l][h]);
      }
    }
    t.dist.push(dist);
    t.done = done;
    if (inside) t.inside.push(inside);
    return t;
  }

  /** What an invention wrote so far: { word (its letters), phonemes, wellFormed (letters, <sep>, phonemes, </s>) }. */
  invented() {
    const t = this.trace;
    const m = this.model;
    const ids = t.producedIds;
    const sep = ids.indexOf(m.targetTokens.indexOf(m.config.target_vocab.sep));
    const letters = sep < 0 ? ids : ids.slice(0, sep);
    const after = sep < 0 ? [] : ids.slice(sep + 1).filter((id) => id !== m.eos);
    const wellFormed = t.done && sep > 0 && ids.at(-1) === m.eos && after.length > 0 &&
      letters.every((id) => isLetter(m, id)) && after.every((id) => !isLetter(m, id) && ![m.bos, m.pad].includes(id));
    return { word: letters.filter((id) => id !== m.eos).map((id) => m.targetTokens[id]).join(''), phonemes: after.map((id) => m.targetTokens[id]).join(' '), wellFormed };
  }

  // Rows 0..rows-1 of a decoder-only model (<s> and the prompt but its last token) from one causal pass
  // over <s> + the prompt; each "produced" the prompt's next token. Recorded by the probe when the steps are.
  // The engine takes no empty target, so the pass also feeds one token after the prompt (the one chosen,
  // else any ordinary token): under the causal mask no earlier row sees it.
  #promptRowsFromForward(rows, chosen) {
    const t = this.trace;
    const m = this.model;
    const specials = [m.bos, m.eos, m.pad];
    const after = specials.includes(chosen) ? m.targetTokens.findIndex((_, id) => !specials.includes(id)) : chosen;
    const f = this.#run.forward(m.targetTokens[after], { causal: true, probe: t.probed });
    const T = f.ids.length;
    const V = m.targetTokens.length;
    for (let i = 0; i < rows; i++) {
      t.queries.push(f.tokens[i]);
      t.produced.push(f.tokens[i + 1]);
      t.producedIds.push(f.ids[i + 1]);
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.heads; h++) {
          t.self[l][h].push(rowOf(f.selfAttention[l][h], i, T, i + 1));
          t.cross[l][h].push(new Float32Array(0));
        }
      }
      const logits = rowOf(f.logits, i, V);
      t.dist.push({ probs: softmax(logits), logits, chosen: f.ids[i + 1] });
    }
    if (t.probed) {
      const whole = captureForward(this.#run, m);
      for (let i = 0; i < rows; i++) t.inside.push({ ...forwardRow(whole, i, m), prompt: true });
    }
  }

  /** The output so far as text (space-separated tokens, without </s>), as the native CLI prints it. */
  outputText() {
    const t = this.trace;
    if (t.mode === 'teacher') return t.teacher.target;
    if (t.beams) return t.beams.shown?.text ?? '';
    // (an invention: every token written, <sep> included, as a run from no prompt writes them)
    if (t.invented) return t.produced.filter((x, i) => ![this.model.bos, this.model.eos, this.model.pad].includes(t.producedIds[i])).join(' ');
    return this.#run.outputText();
  }

  // Beam search: the attention of a hypothesis is that of a teacher-forced pass over its tokens (under the
  // causal mask that pass gives exactly the rows the beam's steps computed), so the page can draw whole
  // matrices for the best hypothesis even when the best beam changes from one step to the next.
  #recordBeam(r) {
    const t = this.trace;
    const m = this.model;
    const shown = r.done || r.beams.length === 0 ? r.results[0] : r.beams[0];
    // every step's kept hypotheses, for the tree of expansions (panels/beam_tree.js): the live beams and the
    // ones the step finished, each with `parent`, its beam in the step before (step 0: the empty <s>)
    const steps = [...(t.beams?.steps ?? []), { live: r.beams, finished: r.finishedNow }];
    const { beamWidth: width, lengthPenalty } = this.#run.options;
    t.beams = { live: r.beams, results: r.results, shown, steps, width, lengthPenalty };
    t.done = r.done;
    const ids = shown?.ids ?? [];
    let fed = ids.filter((id) => id !== m.eos).map((id) => m.targetTokens[id]);
    // (a decoder-only pass also runs over <s> and the prompt first: its rows come before the hypothesis'.
    // Its last token is never fed, which keeps the pass within max_target_len; the engine takes no empty
    // target, so an ordinary token stands after the prompt then, unseen by the rows kept under the mask.)
    const promptIds = this.decoderOnly ? this.#run.inputIds.slice() : [];
    if (this.decoderOnly) {
      fed = ids.slice(0, -1).map((id) => m.targetTokens[id]);
      if (fed.length === 0) fed = [m.targetTokens.find((_, id) => ![m.bos, m.eos, m.pad].includes(id))];
    }
    try {
      this.#fillFromForward(fed.join(' '), { causal: true, rows: promptIds.length + ids.length, producedIds: [...promptIds, ...ids] });
    } catch (error) {
      // A hypothesis holding a special token (<pad>, from an untrained model) cannot be fed back as
      // text: show its beams without matrices rather than stop the search.
      if (!(error instanceof StepwiseError)) throw error;
      this.#fillFromForward('', { causal: true, rows: 0, producedIds: [] });
    }
  }

  // Fills queries/produced/self/cross/dist from one teacher-forced pass over <s> + targetText, keeping
  // the first `rows` rows (all by default); row i produced producedIds[i] (by default the next fed token,
  // </s> after the last). An empty target leaves no rows.
  #fillFromForward(targetText, { causal, rows = Infinity, producedIds = null, probe = false }) {
    const t = this.trace;
    const m = this.model;
    t.self = emptyHeads(this.layers, this.heads);
    t.cross = emptyHeads(this.layers, this.heads);
    t.queries = [];
    t.produced = [];
    t.producedIds = [];
    t.dist = [];
    if (rows === 0 || (targetText.trim() === '' && producedIds !== null && !this.decoderOnly)) return null;
    const f = this.#run.forward(targetText, { causal, probe });
    t.loss = { ...f.loss, nll: Array.from(f.loss.nll) };  // (a copy: the calls below may move the module's memory)
    const T = f.ids.length;
    const S = this.decoderOnly ? 0 : t.input.length;
    const V = m.targetTokens.length;
    const n = Math.min(rows, T);
    const produced = producedIds ?? [...f.ids.slice(1), m.eos];
    for (let i = 0; i < n; i++) {
      t.queries.push(f.tokens[i]);
      t.produced.push(m.targetTokens[produced[i]]);
      t.producedIds.push(produced[i]);
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.heads; h++) {
          t.self[l][h].push(rowOf(f.selfAttention[l][h], i, T, n));
          t.cross[l][h].push(S ? rowOf(f.crossAttention[l][h], i, S) : new Float32Array(0));
        }
      }
      const logits = rowOf(f.logits, i, V);
      t.dist.push({ probs: softmax(logits), logits, chosen: produced[i] });
    }
    if (probe) {
      // (after the copies above: inside() calls into the module, which may move its memory)
      const whole = captureForward(this.#run, this.model);
      t.inside = Array.from({ length: n }, (_, i) => forwardRow(whole, i, this.model));
      t.insideShared = captureShared(this.#run, this.model, true);
    }
    return f;
  }

  // Teacher forcing: <s> + the reference in one parallel pass, with or without the causal mask; then
  // the same word decoded step by step (greedy), whose rows must equal the teacher-forced ones wherever
  // the two were fed the same tokens. A decoder-only pass runs over <s>, the prompt and the reference; the
  // steps expose rows from the prompt's last position on (P = promptRows), so those are the ones compared.
  #teacherForce(word, { target, causal }) {
    const t = this.trace;
    const m = this.model;
    const P = t.promptRows;
    const started = performance.now();
    const f = this.#fillFromForward(target, { causal, probe: true });
    t.stepMs.push(performance.now() - started);
    t.done = true;
    const fedIds = f.ids.slice(1 + P);

    const stepped = m.start(word, { strategy: 'greedy' });
    const steppedRows = [];
    const own = { ids: [], probs: [] };  // the model's own greedy run, for exposure bias (web/training.js)
    try {
      while (!stepped.done) {
        const r = stepped.step();
        steppedRows.push(r.selfAttention.map((layer) => layer.map((row) => row.slice())));
        own.ids.push(r.id);
        own.probs.push(r.probs.slice());
      }
    } finally {
      stepped.dispose();
    }
    const greedyIds = stepped.ids;
    let agree = 1;  // rows P..P+agree-1 were fed the same tokens (row P: <s> and the prompt, in both)
    while (P + agree < t.queries.length && agree < steppedRows.length && greedyIds[agree - 1] === fedIds[agree - 1]) agree++;
    let maxDiff = 0;
    for (let i = 0; i < agree; i++) {
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.heads; h++) {
          const forced = t.self[l][h][P + i];
          const step = steppedRows[i][l][h];
          for (let j = 0; j < forced.length; j++) maxDiff = Math.max(maxDiff, Math.abs(forced[j] - (j < step.length ? step[j] : 0)));
        }
      }
    }
    t.teacher = {
      target: fedIds.map((id) => m.targetTokens[id]).join(' '),
      greedy: greedyIds.filter((id) => id !== m.eos).map((id) => m.targetTokens[id]).join(' '),
      firstCompared: P,         // the first row compared
      rowsCompared: P + agree,  // rows firstCompared..rowsCompared-1 were compared
      maxDiff,
    };
    t.training = trainingOf(m, word, t, target, own);  // the pass as training sees it (web/training.js)
  }

  /**
   * The teacher-forced counterpart of stepped row `row`: one parallel pass over every token the steps fed
   * (and the last one chosen, when it is not </s>), under the causal mask, recorded by the probe; its row
   * `row` as insideRow() describes it, now with the masks (−∞ over the positions after `row`). Kept per
   * row; null when the tokens cannot be fed back as text (a special token chosen by an untrained model).
   */
  teacherCounterpart(row) {
    const t = this.trace;
    if (t.mode !== 'steps' || !t.probed || row < 0 || row >= t.queries.length) return null;
    if (t.counterparts.has(row)) return t.counterparts.get(row);
    const m = this.model;
    const fed = t.queries.slice(1);
    const last = t.producedIds.at(-1);
    if (last !== m.eos) fed.push(t.produced.at(-1));
    let result = null;
    try {
      // (a decoder-only pass puts <s> and the prompt before the text fed itself)
      this.#run.forward(fed.slice(t.promptRows).join(' '), { causal: true, probe: true });
      result = { ...forwardRow(captureForward(this.#run, m), row, m), tokens: [m.targetTokens[m.bos], ...fed] };
    } catch (error) {
      if (!(error instanceof StepwiseError)) throw error;
    }
    t.counterparts.set(row, result);
    return result;
  }

  /** Argmax of row i's distribution (the model's own top choice there). */
  topChoice(i) {
    return argmax(this.trace.dist[i].probs);
  }

  dispose() {
    this.#run?.dispose();
    this.#run = null;
  }
}

/**
 * Steps a throwaway session of `word` on `model` a few times and frees it: the browser compiles the
 * engine's WebAssembly functions on their first call, and the page's step code on its first runs, which
 * made the learner's first step the slowest (measured: ~7 ms of a 24 ms first click, tools/bench/paint.mjs).
 * Called once a model is in use, when the browser is idle; nothing of it is kept or shown.
 */
export function warmUp(model, word, steps = 3) {
  let session = null;
  try {
    session = new DecoderSession(model, word, { mode: 'steps', strategy: 'greedy' });
    for (let k = 0; k < steps && !session.done; k++) session.step();
  } catch {
    // (a warm-up that fails costs nothing: the learner's own step reports what is wrong)
  } finally {
    session?.dispose();
  }
}

function splitRows(matrix, width) {
  const rows = [];
  for (let i = 0; i < matrix.length / width; i++) rows.push(matrix.slice(i * width, (i + 1) * width));
  return rows;
}


// ---------------------------------------------------------------- the probe, copied

// The names a step records once per layer (the same for every head), and per head.
const LAYER_VECTORS = ['input', 'hidden',
  'self_block.normed', 'self_block.output', 'self_block.sum', 'cross_block.normed', 'cross_block.output', 'cross_block.sum',
  'ff_block.normed', 'ff_block.output', 'ff_block.sum',
  'self_attention.query', 'self_attention.key', 'self_attention.value', 'self_attention.context',
  'cross_attention.query', 'cross_attention.context'];
const HEAD_ROWS = ['raw', 'scaled', 'weights', 'mask'];

/**
 * What the engine recorded inside the last step, copied out of the module: { position, teacherForced:
 * false, token_embedding, positional, final_normed (Float32Array d_model), layers: [{ vectors: name ->
 * Float32Array, cache: { key, value, rows } ([rows, d_model] row-major), heads: [{ self: { raw, scaled,
 * weights }, cross: { ... } }] }] }.
 */
function captureStep(run, model) {
  const c = model.config;
  const record = { teacherForced: false, layers: [] };
  // Head 0 of a layer: everything; the other heads: only their attention rows (the rest is per layer).
  const headRows = (model.encoderDecoder ? ['self', 'cross'] : ['self']).flatMap((kind) => ['raw', 'scaled', 'weights'].map((f) => `${kind}_attention.${f}`));
  for (let l = 0; l < c.n_decoder_layers; l++) {
    const layer = { vectors: {}, cache: null, heads: [] };
    for (let h = 0; h < c.n_heads; h++) {
      const inside = run.inside({ layer: l, head: h, only: h === 0 ? null : headRows });
      const t = inside.tensors;
      if (h === 0) {
        record.position = inside.position;
        for (const name of ['token_embedding', 'positional', 'final_normed']) record[name] ??= t[name].data.slice();
        for (const name of LAYER_VECTORS) if (t[name]) layer.vectors[name] = t[name].data.slice();
        layer.cache = { key: t['cache.key'].data.slice(), value: t['cache.value'].data.slice(), rows: t['cache.key'].shape[0] };
      }
      const head = {};
      for (const kind of ['self', 'cross']) {
        if (!t[`${kind}_attention.raw`]) continue;
        head[kind] = {};
        for (const field of HEAD_ROWS) if (t[`${kind}_attention.${field}`]) head[kind][field] = t[`${kind}_attention.${field}`].data.slice();
      }
      layer.heads.push(head);
    }
    record.layers.push(layer);
  }
  return record;
}

/** Every layer and head of the last teacher-forced pass's probe, copied: [layer][head] -> name -> { data, shape }. */
function captureForward(run, model) {
  const c = model.config;
  return Array.from({ length: c.n_decoder_layers }, (_, l) => Array.from({ length: c.n_heads }, (_, h) => {
    const { tensors } = run.inside({ layer: l, head: h, teacherForced: true });
    return Object.fromEntries(Object.entries(tensors).map(([name, { data, shape }]) => [name, { data: data.slice(), shape }]));
  }));
}

/**
 * Row i of a teacher-forced probe, in captureStep()'s form (teacherForced: true): the vectors are row i
 * of the [T, d] matrices, the attention rows span every key (the masked ones too, with the mask row),
 * and `cache` holds the keys and values of all T positions, computed at once (there is no cache).
 */
function forwardRow(whole, i, model) {
  const c = model.config;
  const rowOf = (tensor) => tensor.data.slice(i * tensor.shape[1], (i + 1) * tensor.shape[1]);
  const first = whole[0][0];
  const record = { teacherForced: true, position: i, layers: [] };
  for (const name of ['token_embedding', 'positional', 'final_normed']) record[name] = rowOf(first[name]);
  for (let l = 0; l < c.n_decoder_layers; l++) {
    const t0 = whole[l][0];
    const layer = { vectors: {}, heads: [] };
    for (const name of LAYER_VECTORS) {
      if (!t0[name]) continue;
      // this position's key and value, as a step records them
      layer.vectors[name] = rowOf(t0[name]);
    }
    const keys = t0['self_attention.key'];
    layer.cache = { key: keys.data.slice(), value: t0['self_attention.value'].data.slice(), rows: keys.shape[0] };
    for (let h = 0; h < c.n_heads; h++) {
      const t = whole[l][h];
      const head = {};
      for (const kind of ['self', 'cross']) {
        if (!t[`${kind}_attention.raw`]) continue;
        head[kind] = {};
        for (const field of HEAD_ROWS) head[kind][field] = rowOf(t[`${kind}_attention.${field}`]);
      }
      layer.heads.push(head);
    }
    record.layers.push(layer);
  }
  return record;
}

/** The encoder's output and each layer's cross-attention keys and values ([S, d_model]), or null. */
function captureShared(run, model, teacherForced) {
  if (!model.encoderDecoder) return null;
  const c = model.config;
  const shared = { memory: null, cross: [] };
  for (let l = 0; l < c.n_decoder_layers; l++) {
    const t = run.inside({ layer: l, head: 0, teacherForced }).tensors;
    const key = teacherForced ? t['cross_attention.key'] : t['cross_cache.key'];
    const value = teacherForced ? t['cross_attention.value'] : t['cross_cache.value'];
    if (!teacherForced && l === 0) shared.memory = t.memory.data.slice();
    shared.cross.push({ key: key.data.slice(), value: value.data.slice(), rows: key.shape[0] });
  }
  return shared;
}
