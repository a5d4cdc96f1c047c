// What the page shows, computed: one word run through the model, step by step or teacher-forced, recorded
// as plain arrays (copies, never views into the module's memory) that the page draws. No DOM here.
//
// A trace describes the decoder's rows: row i is decoder position i, whose input token is queries[i]
// ("<s>" first) and which produced the token produced[i]. For every layer l and head h:
//   self[l][h][i]   the masked self-attention row of position i (keys 0..n-1; masked keys hold 0)
//   cross[l][h][i]  its cross-attention row over the input letters
//   encoder[l][h][i] the encoder self-attention row of letter i (no mask)
// plus, per row, the next-token distribution it produced (dist[i]).
import { StepwiseError } from './stepwise.js';

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
  const { strategy, temperature, topK, topP, seed, beamWidth } = settings;
  if (strategy === 'sample') return { strategy, temperature, topK, topP, seed };
  if (strategy === 'beam') return { strategy, beamWidth, nBest: beamWidth };
  return { strategy: 'greedy' };
}

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
    if (!model.encoderDecoder) {
      throw new StepwiseError(`'${c.name ?? 'this model'}' is a decoder-only model; this page explains encoder-decoder models`);
    }
    const options = settings.mode === 'teacher' ? { strategy: 'greedy' } : decodeOptions(settings);
    this.#run = model.start(word, options);
    try {
      this.trace = {
        mode: settings.mode,
        strategy: settings.mode === 'teacher' ? 'teacher' : options.strategy,
        causal: settings.mode === 'teacher' ? settings.causal : true,
        word,
        input: this.#run.input.slice(),
        encoder: this.#run.encoderAttention().map((layer) => layer.map((m) => splitRows(m, this.#run.input.length))),
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
    } else {
      const i = r.position;
      t.queries.push(i === 0 ? this.model.targetTokens[this.model.bos] : t.produced[i - 1]);
      t.produced.push(r.token);
      t.producedIds.push(r.id);
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.heads; h++) {
          t.self[l][h].push(r.selfAttention[l][h].slice());
          t.cross[l][h].push(r.crossAttention[l][h].slice());
        }
      }
      t.dist.push({ probs: r.probs.slice(), logits: r.logits.slice(), chosen: r.id });
      t.done = r.done;
    }
    return t;
  }

  /** The output so far as text (space-separated tokens, without </s>), as the native CLI prints it. */
  outputText() {
    const t = this.trace;
    if (t.mode === 'teacher') return t.teacher.target;
    if (t.beams) return t.beams.shown?.text ?? '';
    return this.#run.outputText();
  }

  // Beam search: the attention of a hypothesis is that of a teacher-forced pass over its tokens (under the
  // causal mask that pass gives exactly the rows the beam's steps computed), so the page can draw whole
  // matrices for the best hypothesis even when the best beam changes from one step to the next.
  #recordBeam(r) {
    const t = this.trace;
    const m = this.model;
    const shown = r.done || r.beams.length === 0 ? r.results[0] : r.beams[0];
    t.beams = { live: r.beams, results: r.results, shown };
    t.done = r.done;
    const ids = shown?.ids ?? [];
    const fed = ids.filter((id) => id !== m.eos).map((id) => m.targetTokens[id]);
    try {
      this.#fillFromForward(fed.join(' '), { causal: true, rows: ids.length, producedIds: ids });
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
  #fillFromForward(targetText, { causal, rows = Infinity, producedIds = null }) {
    const t = this.trace;
    const m = this.model;
    t.self = emptyHeads(this.layers, this.heads);
    t.cross = emptyHeads(this.layers, this.heads);
    t.queries = [];
    t.produced = [];
    t.producedIds = [];
    t.dist = [];
    if (targetText.trim() === '' && producedIds !== null) return null;
    const f = this.#run.forward(targetText, { causal });
    const T = f.ids.length;
    const S = t.input.length;
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
          t.cross[l][h].push(rowOf(f.crossAttention[l][h], i, S));
        }
      }
      const logits = rowOf(f.logits, i, V);
      t.dist.push({ probs: softmax(logits), logits, chosen: produced[i] });
    }
    return f;
  }

  // Teacher forcing: <s> + the reference in one parallel pass, with or without the causal mask; then
  // the same word decoded step by step (greedy), whose rows must equal the teacher-forced ones wherever
  // the two were fed the same tokens.
  #teacherForce(word, { target, causal }) {
    const t = this.trace;
    const m = this.model;
    const started = performance.now();
    const f = this.#fillFromForward(target, { causal });
    t.stepMs.push(performance.now() - started);
    t.done = true;
    const fedIds = f.ids.slice(1);

    const stepped = m.start(word, { strategy: 'greedy' });
    const steppedRows = [];
    try {
      while (!stepped.done) steppedRows.push(stepped.step().selfAttention.map((layer) => layer.map((row) => row.slice())));
    } finally {
      stepped.dispose();
    }
    const greedyIds = stepped.ids;
    let agree = 1;  // rows 0..agree-1 were fed the same tokens (row 0: <s> alone, in both)
    while (agree < t.queries.length && agree < steppedRows.length && greedyIds[agree - 1] === fedIds[agree - 1]) agree++;
    let maxDiff = 0;
    for (let i = 0; i < agree; i++) {
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.heads; h++) {
          const forced = t.self[l][h][i];
          const step = steppedRows[i][l][h];
          for (let j = 0; j < forced.length; j++) maxDiff = Math.max(maxDiff, Math.abs(forced[j] - (j < step.length ? step[j] : 0)));
        }
      }
    }
    t.teacher = {
      target: fedIds.map((id) => m.targetTokens[id]).join(' '),
      greedy: greedyIds.filter((id) => id !== m.eos).map((id) => m.targetTokens[id]).join(' '),
      rowsCompared: agree,
      maxDiff,
    };
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

function splitRows(matrix, width) {
  const rows = [];
  for (let i = 0; i < matrix.length / width; i++) rows.push(matrix.slice(i * width, (i + 1) * width));
  return rows;
}

