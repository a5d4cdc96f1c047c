// Stepwise in JavaScript: the WebAssembly engine behind a small API that hides pointers and heap views.
//
//   import * as Stepwise from './stepwise.js';
//   const model = await Stepwise.load('weights/g2p-cmudict.safetensors');   // or bytes
//   const run = model.start('phoenix', { strategy: 'greedy' });
//   while (!run.done) {
//     const { text, probs, selfAttention, crossAttention } = run.step();   // one decoder step
//   }
//   run.dispose();
//
// Arrays returned by step() and forward() are zero-copy views into the module's memory: they are valid
// until the next call into this module. Keep what you need with .slice(). Errors raised by the engine
// arrive as StepwiseError with the engine's message.
import createStepwiseModule from '#stepwise-wasm';

export class StepwiseError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StepwiseError';
  }
}

const STRATEGIES = { greedy: 0, sample: 1, beam: 2 };
const DEFAULT_OPTIONS = {
  strategy: 'greedy',
  temperature: 1,
  topK: 0,
  topP: 1,
  seed: 0,
  beamWidth: 5,
  lengthPenalty: 1,
  nBest: 1,
  maxLength: 0,
};

let modulePromise = null;

/**
 * The WebAssembly module, instantiated once (the first call's options win). `wasmBinary`: the .wasm
 * bytes, for a module file that does not embed them (the built site ships them as stepwise.wasm).
 */
export function module({ wasmBinary } = {}) {
  modulePromise ??= createStepwiseModule(wasmBinary ? { wasmBinary } : {});
  return modulePromise;
}

/** Engine version and the kernels it runs ("wasm-simd128"). */
export async function info() {
  const M = await module();
  return { version: M.UTF8ToString(M._sw_version()), kernels: M.UTF8ToString(M._sw_kernels()) };
}

/**
 * Loads a model: a URL (fetched), or the file's bytes (ArrayBuffer, typed array, Blob/File).
 * Rejects with a StepwiseError naming what is wrong with the file.
 */
export async function load(source, { name } = {}) {
  const M = await module();
  let bytes;
  let origin = name;
  if (typeof source === 'string' || source instanceof URL) {
    origin ??= String(source);
    const response = await fetch(source);
    if (!response.ok) throw new StepwiseError(`cannot fetch model '${origin}': HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    origin ??= source.name ?? 'model';
    bytes = new Uint8Array(await source.arrayBuffer());
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else if (ArrayBuffer.isView(source)) {
    bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  } else {
    throw new StepwiseError('load() takes a URL or the bytes of a model file');
  }
  return new Model(M, bytes, origin ?? 'model');
}

// Calls into the module, turning the binding's error convention into exceptions.
function check(M, result, failed) {
  if (failed(result)) throw new StepwiseError(M.UTF8ToString(M._sw_last_error()));
  return result;
}
const callInt = (M, r) => check(M, r, (x) => x === -1);
const callHandle = (M, r) => check(M, r, (x) => x === 0);
const callPointer = (M, r) => check(M, r, (x) => x === 0);

function withString(M, text, f) {
  if (typeof text !== 'string') throw new StepwiseError(`expected text, got ${typeof text}`);
  const size = M.lengthBytesUTF8(text) + 1;
  const pointer = M._malloc(size);
  try {
    M.stringToUTF8(text, pointer, size);
    return f(pointer);
  } finally {
    M._free(pointer);
  }
}

const f32 = (M, pointer, length) => new Float32Array(M.HEAPF32.buffer, pointer, length);
const i32 = (M, pointer, length) => Array.from(new Int32Array(M.HEAP32.buffer, pointer, length));

// [layer][head] views of rows `stride` apart, each `length` long, starting at `pointer`.
function perHeadRows(M, pointer, layers, heads, stride, length) {
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: heads }, (_, h) => f32(M, pointer + 4 * ((l * heads + h) * stride), length)),
  );
}

function number(options, key, { integer = false } = {}) {
  const value = options[key];
  if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value))) {
    throw new StepwiseError(`option ${key} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
  }
  return value;
}

const registry = new FinalizationRegistry(({ M, free, handle }) => M[free](handle));

export class Model {
  #M;
  #handle;

  constructor(M, bytes, origin) {
    this.#M = M;
    const pointer = M._malloc(Math.max(1, bytes.length));
    try {
      M.HEAPU8.set(bytes, pointer);
      this.#handle = withString(M, origin, (name) => callHandle(M, M._sw_model_load(pointer, bytes.length, name)));
    } finally {
      M._free(pointer);
    }
    registry.register(this, { M, free: '_sw_model_free', handle: this.#handle }, this);
    const c = JSON.parse(M.UTF8ToString(callPointer(M, M._sw_model_config(this.#handle))));
    /** The model's configuration as stored in its file (see weights/README.md). */
    this.config = c;
    this.parameters = M._sw_model_parameters(this.#handle);
    this.encoderDecoder = c.architecture === 'encoder-decoder';
    this.sourceTokens = this.encoderDecoder ? c.source_vocab.tokens : c.target_vocab.tokens;
    this.targetTokens = c.target_vocab.tokens;
    this.bos = this.targetTokens.indexOf(c.target_vocab.bos);
    this.eos = this.targetTokens.indexOf(c.target_vocab.eos);
    this.pad = this.targetTokens.indexOf(c.target_vocab.pad);
  }

  get handle() {
    if (this.#handle === 0) throw new StepwiseError('this model was disposed');
    return this.#handle;
  }

  /** Starts a run on `text` (a word for the G2P model). Options: see DEFAULT_OPTIONS. */
  start(text, options = {}) {
    return new Run(this, this.#M, text, { ...DEFAULT_OPTIONS, ...options });
  }

  /**
   * The teacher-forced pass: the whole target (<s> + targetText) in parallel, under the causal mask or
   * without it. Returns the target tokens, logits (T x V, row-major) and attention [layer][head] ->
   * T x T / T x S, all copies.
   */
  forward(text, targetText, { causal = true } = {}) {
    const run = this.start(text);
    try {
      const r = run.forward(targetText, { causal });
      const copy = (heads) => heads.map((layer) => layer.map((m) => m.slice()));
      return { ...r, logits: r.logits.slice(), selfAttention: copy(r.selfAttention), crossAttention: copy(r.crossAttention) };
    } finally {
      run.dispose();
    }
  }

  tokenText(id) {
    return this.targetTokens[id];
  }

  dispose() {
    if (this.#handle !== 0) {
      registry.unregister(this);
      this.#M._sw_model_free(this.#handle);
      this.#handle = 0;
    }
  }
}

export class Run {
  #M;
  #session;
  #model;

  constructor(model, M, text, options) {
    this.#M = M;
    this.#model = model;
    this.options = options;
    const strategy = STRATEGIES[options.strategy];
    if (strategy === undefined) throw new StepwiseError(`unknown strategy '${options.strategy}' (greedy, sample, beam)`);
    const args = [
      strategy,
      number(options, 'temperature'),
      number(options, 'topK', { integer: true }),
      number(options, 'topP'),
      number(options, 'seed', { integer: true }),
      number(options, 'beamWidth', { integer: true }),
      number(options, 'lengthPenalty'),
      number(options, 'nBest', { integer: true }),
      number(options, 'maxLength', { integer: true }),
    ];
    this.#session = callHandle(M, M._sw_session_new(model.handle));
    registry.register(this, { M, free: '_sw_session_free', handle: this.#session }, this);
    try {
      callInt(M, M._sw_session_configure(this.#session, ...args));
      const n = withString(M, text, (pointer) => callInt(M, M._sw_session_start(this.#session, pointer)));
      this.inputIds = i32(M, M._sw_session_input(this.#session), n);
    } catch (error) {
      this.dispose();
      throw error;
    }
    this.text = text;
    /** The input split into the model's tokens (letters for G2P). */
    this.input = this.inputIds.map((id) => model.sourceTokens[id]);
    this.beam = options.strategy === 'beam';
    this.tokens = [];
    this.ids = [];
    const c = model.config;
    this.layers = c.n_decoder_layers;
    this.heads = c.n_heads;
  }

  get #handle() {
    if (this.#session === 0) throw new StepwiseError('this run was disposed');
    return this.#session;
  }

  /** True once </s> was chosen or the length limit was reached. */
  get done() {
    return callInt(this.#M, this.#M._sw_session_done(this.#handle)) === 1;
  }

  /** The encoder's (bidirectional, unmasked) self-attention: [layer][head] -> S x S, row-major copies. */
  encoderAttention() {
    const M = this.#M;
    const c = this.#model.config;
    if (!this.#model.encoderDecoder) return [];
    const S = this.inputIds.length;
    return Array.from({ length: c.n_encoder_layers }, (_, l) =>
      Array.from({ length: c.n_heads }, (_, h) =>
        f32(M, callPointer(M, M._sw_session_encoder_attention(this.#handle, l, h)), S * S).slice(),
      ),
    );
  }

  /**
   * One decoder step. Greedy/sampling: { id, token, text, position, probs, logits, selfAttention[l][h],
   * crossAttention[l][h], done }. Beam search: { beams, results, selfAttention, crossAttention, done },
   * the attention being that of the best live beam.
   */
  step() {
    const M = this.#M;
    const s = this.#handle;
    const c = this.#model.config;
    const maxT = c.max_target_len;
    const maxS = this.#model.encoderDecoder ? c.max_source_len : 1;
    const S = this.#model.encoderDecoder ? this.inputIds.length : 0;
    if (this.beam) {
      const live = callInt(M, M._sw_beam_step(s));
      const state = this.beamState();
      let self = [];
      let cross = [];
      if (live > 0) {
        const position = callInt(M, M._sw_beam_position(s, 0));
        self = perHeadRows(M, callPointer(M, M._sw_beam_self_attention(s, 0)), this.layers, this.heads, maxT, position);
        cross = perHeadRows(M, callPointer(M, M._sw_beam_cross_attention(s, 0)), this.layers, this.heads, maxS, S);
      }
      return { ...state, selfAttention: self, crossAttention: cross, done: this.done };
    }
    const id = callInt(M, M._sw_session_step(s));
    const position = callInt(M, M._sw_session_position(s));
    const V = this.#model.targetTokens.length;
    this.ids.push(id);
    this.tokens.push(this.#model.targetTokens[id]);
    return {
      id,
      token: this.#model.targetTokens[id],
      text: this.outputText(),
      position: position - 1,
      probs: f32(M, callPointer(M, M._sw_session_probs(s)), V),
      logits: f32(M, callPointer(M, M._sw_session_logits(s)), V),
      selfAttention: perHeadRows(M, callPointer(M, M._sw_session_self_attention(s)), this.layers, this.heads, maxT, position),
      crossAttention: perHeadRows(M, callPointer(M, M._sw_session_cross_attention(s)), this.layers, this.heads, maxS, S),
      done: this.done,
    };
  }

  /** Beam search: the live beams and the finished results, best first, with their text. */
  beamState() {
    const M = this.#M;
    const json = JSON.parse(M.UTF8ToString(callPointer(M, M._sw_beam_json(this.#handle))));
    const describe = (h) => ({
      ids: h.tokens,
      tokens: h.tokens.map((t) => this.#model.targetTokens[t]),
      text: this.#textOf(h.tokens),
      logProb: h.log_prob,
      score: h.score,
      finished: h.finished,
    });
    return { beams: json.live.map(describe), results: json.results.map(describe) };
  }

  /** Runs to the end; returns the output text (the best hypothesis for beam search). */
  complete() {
    while (!this.done) this.step();
    return this.beam ? (this.beamState().results[0]?.text ?? '') : this.outputText();
  }

  outputText() {
    return this.#textOf(this.ids);
  }

  #textOf(ids) {
    const m = this.#model;
    // As the engine's decode (and so the CLI) writes text: without <pad>, <s> and </s>.
    return ids.filter((t) => t !== m.eos && t !== m.bos && t !== m.pad).map((t) => m.targetTokens[t]).join(' ');
  }

  /** Teacher forcing on this run's input: see Model.forward. */
  forward(targetText, { causal = true } = {}) {
    const M = this.#M;
    const s = this.#handle;
    const c = this.#model.config;
    const T = withString(M, targetText, (pointer) => callInt(M, M._sw_forward(s, pointer, causal ? 1 : 0)));
    const S = this.#model.encoderDecoder ? this.inputIds.length : 0;
    const V = this.#model.targetTokens.length;
    const ids = i32(M, callPointer(M, M._sw_forward_target(s)), T);
    const logits = f32(M, callPointer(M, M._sw_forward_logits(s)), T * V);
    const heads = (f, width) =>
      Array.from({ length: c.n_decoder_layers }, (_, l) =>
        Array.from({ length: c.n_heads }, (_, h) => f32(M, callPointer(M, f(s, l, h)), T * width)),
      );
    return {
      ids,
      tokens: ids.map((t) => this.#model.targetTokens[t]),
      logits,
      selfAttention: heads(M._sw_forward_self_attention, T),
      crossAttention: this.#model.encoderDecoder ? heads(M._sw_forward_cross_attention, S) : [],
    };
  }

  dispose() {
    if (this.#session !== 0) {
      registry.unregister(this);
      this.#M._sw_session_free(this.#session);
      this.#session = 0;
    }
  }
}
