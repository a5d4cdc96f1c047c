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
// arrive as StepwiseError with the engine's message; so do the wrapper's own checks, made before
// anything reaches the module: every option (type, finite, integer where the engine takes one, the
// engine's range, judged on the value the engine would receive), every character of the text (a NUL
// would cut it short, a lone UTF-16 surrogate has no UTF-8 form) and every allocation (a model file that
// does not fit in WebAssembly memory is refused naming its size; the module keeps working).
//
// Call dispose() on every run and model you are done with. Each holds memory inside the WebAssembly
// module (a G2P run about 140 kB, a model its weights) that JavaScript's garbage collector cannot see:
// it frees the JavaScript object but knows nothing of the memory behind it. A FinalizationRegistry
// frees the module's side of a run or model that was dropped without dispose() - a safety net, not a
// substitute: it acts only after a collection, which the collector schedules by the JavaScript memory
// it sees (the wrapper makes undisposed runs weigh what they hold, see HEAVY_AFTER), and its callbacks
// run only once control returns to the event loop: a synchronous loop of undisposed runs is never freed
// while it runs.
import createStepwiseModule from '#stepwise-wasm';

export class StepwiseError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StepwiseError';
  }
}

const STRATEGIES = { greedy: 0, sample: 1, beam: 2 };
// What inside() returns as [rows, d_model] matrices for a step: the caches it read.
const STEP_MATRICES = new Set(['cache.key', 'cache.value', 'cross_cache.key', 'cross_cache.value', 'memory']);
// The options of start(); anything else is refused by name.
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
  probe: false,  // record every intermediate of each step, for run.inside() (greedy and sampling runs)
};

let modulePromise = null;

/**
 * The WebAssembly module, instantiated once (the first call's options win), from one of:
 *   wasmModule  the engine already compiled (a WebAssembly.Module): the page compiles stepwise.wasm while
 *               it downloads (WebAssembly.compileStreaming, web/boot.js), so only instantiation is left
 *   wasmBinary  the .wasm bytes, for a module file that does not embed them
 *   neither     the module file's own embedded .wasm (the build for Node and the tests)
 */
export function module({ wasmModule, wasmBinary } = {}) {
  modulePromise ??= new Promise((resolve, reject) => {
    const options = wasmModule
      ? {
          // Emscripten's hook for a module compiled elsewhere: instantiate it with the imports the
          // generated code asks for and hand it the instance ({} says it arrives asynchronously).
          instantiateWasm(imports, receiveInstance) {
            WebAssembly.instantiate(wasmModule, imports).then((instance) => receiveInstance(instance, wasmModule), reject);
            return {};
          },
        }
      : wasmBinary ? { wasmBinary } : {};
    createStepwiseModule(options).then(resolve, reject);
  });
  return modulePromise;
}

/** Engine version and the kernels it runs, for float32 and for int8 weights ("wasm-simd128 + q8-simd128"). */
export async function info() {
  const M = await module();
  return { version: M.UTF8ToString(M._sw_version()), kernels: M.UTF8ToString(M._sw_kernels()) };
}

/**
 * Loads a model: a URL (fetched), or the file's bytes (ArrayBuffer, typed array, Blob/File).
 * Rejects with a StepwiseError naming what is wrong with the file. Options: name (for messages);
 * dequantizeUpTo, how many weights an int8 (Q8) matrix may have to be dequantized to float32 at load
 * (0: keep every one int8, Infinity: dequantize every one; left out: the engine's default, which
 * dequantizes the small matrices, which the float32 kernel runs faster, and keeps the large ones int8,
 * a quarter of the memory).
 */
export async function load(source, { name, dequantizeUpTo } = {}) {
  const M = await module();
  if (name !== undefined) checkText(name, 'model name');
  if (dequantizeUpTo !== undefined && !(dequantizeUpTo === Infinity || (Number.isInteger(dequantizeUpTo) && dequantizeUpTo >= 0))) {
    throw new StepwiseError(`option dequantizeUpTo must be a whole number >= 0 or Infinity, got ${describe(dequantizeUpTo)}`);
  }
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
  // -1: the engine's default; no matrix in WebAssembly memory has more than INT32_MAX weights
  return new Model(M, bytes, origin ?? 'model', dequantizeUpTo === undefined ? -1 : Math.min(dequantizeUpTo, INT32_MAX));
}

// Calls into the module, turning the binding's error convention into exceptions.
function check(M, result, failed) {
  if (failed(result)) throw new StepwiseError(M.UTF8ToString(M._sw_last_error()));
  return result;
}
const callInt = (M, r) => check(M, r, (x) => x === -1);
const callHandle = (M, r) => check(M, r, (x) => x === 0);
const callPointer = (M, r) => check(M, r, (x) => x === 0);

// --- allocations -------------------------------------------------------------------------------------

const INT32_MAX = 2 ** 31 - 1;
const OUT_OF_MEMORY = 'out of WebAssembly memory';  // how the binding reports std::bad_alloc
const grouped = (n) => n.toLocaleString('en-US');

function doesNotFit(M, what, size) {
  return `${what} of ${grouped(size)} bytes does not fit in WebAssembly memory ` +
    `(at most ${grouped(M._sw_heap_max())} bytes, ${grouped(M._sw_heap_allocated())} of them in use)`;
}

// `size` bytes of the module's heap, or a StepwiseError naming `what` did not fit. malloc returns 0 when
// the heap cannot grow enough; its size argument is 32-bit, so larger sizes are refused before the call
// (they would wrap to a small allocation).
function allocate(M, size, what) {
  const pointer = size <= INT32_MAX && size <= M._sw_heap_max() ? M._malloc(Math.max(1, size)) : 0;
  if (pointer === 0) throw new StepwiseError(doesNotFit(M, what, size));
  return pointer;
}

// --- text --------------------------------------------------------------------------------------------

// A NUL would end the C string early; an unpaired surrogate has no UTF-8 form (stringToUTF8 would
// write another character in its place). With the u flag a pair is one code point, so the surrogate
// range matches only the lone ones.
const BAD_CHARACTER = /[\0\uD800-\uDFFF]/u;

// Refuses what the conversion to UTF-8 would cut or garble. Positions count characters (code points)
// from 1, as the engine's messages do.
function checkText(text, what) {
  if (typeof text !== 'string') throw new StepwiseError(`${what} must be text, got ${describe(text)}`);
  const match = BAD_CHARACTER.exec(text);
  if (match === null) return;
  const position = [...text.slice(0, match.index)].length + 1;
  const unit = match[0].charCodeAt(0);
  if (unit === 0) throw new StepwiseError(`${what}: NUL (U+0000) at position ${position} is not allowed (it would end the text there)`);
  const hex = unit.toString(16).toUpperCase();
  throw new StepwiseError(`${what}: lone surrogate U+${hex} at position ${position} is not a character (half of a UTF-16 pair without its other half)`);
}

function withString(M, text, what, f) {
  checkText(text, what);
  const size = M.lengthBytesUTF8(text) + 1;
  const pointer = allocate(M, size, what);
  try {
    M.stringToUTF8(text, pointer, size);
    return f(pointer);
  } finally {
    M._free(pointer);
  }
}

// The probe's names as C strings, written into the module once (a fixed set of ASCII names, looked up
// many times per step by inside()) and kept for its lifetime.
const probeNames = new WeakMap();  // module -> Map(name -> pointer)
function probeName(M, name) {
  let names = probeNames.get(M);
  if (!names) probeNames.set(M, (names = new Map()));
  let pointer = names.get(name);
  if (pointer === undefined) {
    const size = M.lengthBytesUTF8(name) + 1;
    pointer = allocate(M, size, 'name');
    M.stringToUTF8(name, pointer, size);
    names.set(name, pointer);
  }
  return pointer;
}

// --- options -----------------------------------------------------------------------------------------

// A value as a message shows it: numbers as JavaScript writes them (NaN, Infinity), strings quoted.
function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

// Each number option: integer or not, the engine's rule (decoding.cpp, DecodeOptions::validate; the seed's
// in binding.cpp) and its wording. The binding takes integers as int32 and the other numbers as float32:
// an integer above 2^31 - 1 would wrap, a positive float below 1e-45 would become 0, so ranges are judged
// on both the value given and the value the engine would receive.
const NUMBER_OPTIONS = {
  temperature: { integer: false, valid: (x) => x > 0 && x <= 100, rule: 'temperature must be greater than 0 and at most 100' },
  topK: { integer: true, valid: (x) => x >= 0 && x <= INT32_MAX, rule: `top_k must be 0 (off) or a positive number of tokens (at most ${INT32_MAX})` },
  topP: { integer: false, valid: (x) => x > 0 && x <= 1, rule: 'top_p must be in (0, 1]' },
  seed: { integer: true, valid: (x) => x >= 0 && x <= Number.MAX_SAFE_INTEGER, rule: 'seed must be a whole number in [0, 2^53)' },
  beamWidth: { integer: true, valid: (x) => x >= 1 && x <= 64, rule: 'beam width must be between 1 and 64' },
  lengthPenalty: { integer: false, valid: (x) => Math.abs(x) <= 10, rule: 'length_penalty must be between -10 and 10' },
  nBest: { integer: true, valid: (x, o) => x >= 1 && x <= o.beamWidth, rule: (o) => `n_best must be between 1 and the beam width ${o.beamWidth}` },
  maxLength: { integer: true, valid: (x) => x >= 0 && x <= INT32_MAX, rule: `max_length must be 0 (the model's limit) or positive (at most ${INT32_MAX})` },
};

function number(options, key) {
  const { integer, valid, rule } = NUMBER_OPTIONS[key];
  const value = options[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new StepwiseError(`option ${key} must be ${integer ? 'an integer' : 'a finite number'}, got ${describe(value)}`);
  }
  const received = integer ? value : Math.fround(value);
  if (!valid(value, options) || !valid(received, options)) {
    const as32 = received !== value && !valid(received, options) ? ` (${received} as a 32-bit float)` : '';
    throw new StepwiseError(`option ${key}: ${typeof rule === 'function' ? rule(options) : rule}, got ${describe(value)}${as32}`);
  }
  return value;
}

// The options of start(), checked: defaults for the ones left out (or undefined), every value valid.
function decodeOptions(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new StepwiseError(`options must be an object, got ${describe(options)}`);
  const merged = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(DEFAULT_OPTIONS, key)) {
      throw new StepwiseError(`unknown option ${JSON.stringify(key)} (the options are ${Object.keys(DEFAULT_OPTIONS).join(', ')})`);
    }
    if (value !== undefined) merged[key] = value;
  }
  const { strategy } = merged;
  if (typeof strategy !== 'string' || !Object.hasOwn(STRATEGIES, strategy)) {
    throw new StepwiseError(`option strategy: unknown strategy ${describe(strategy)} (${Object.keys(STRATEGIES).join(', ')})`);
  }
  for (const key of Object.keys(NUMBER_OPTIONS)) number(merged, key);
  if (typeof merged.probe !== 'boolean') throw new StepwiseError(`option probe must be true or false, got ${describe(merged.probe)}`);
  if (merged.probe && strategy === 'beam') {
    throw new StepwiseError('option probe: the probe records greedy and sampling runs (one hypothesis per step), not beam search');
  }
  return merged;
}

function causalOption(causal) {
  if (typeof causal !== 'boolean') throw new StepwiseError(`option causal must be true or false, got ${describe(causal)}`);
  return causal;
}

// --- runs and models left to the garbage collector ----------------------------------------------------

// Frees the module's side of a run or model whose JavaScript object was collected without dispose().
// dispose() unregisters the object first, so nothing is freed twice.
let undisposed = 0;  // registered objects neither disposed nor collected yet
const registry = new FinalizationRegistry(({ M, free, handle }) => {
  undisposed--;
  M[free](handle);
});

function track(object, M, free, handle) {
  registry.register(object, { M, free, handle }, object);
  undisposed++;
}

function untrack(object) {
  if (registry.unregister(object)) undisposed--;
}

// The collector sees the small JavaScript objects, not the module memory behind them (a G2P run holds
// about 140 kB), so on its own it lets undisposed runs pile up: measured in Node 20, up to 1,700 of them
// (250 MB) alive at once, with an await every 100 runs. So once more than HEAVY_AFTER objects are
// undisposed, each new run also holds a zero-filled ArrayBuffer as large as the module memory a run of its
// model takes (measured on the model's first run): memory the collector does count, for exactly as long
// as the run lives, which makes it collect about as often as the real footprint warrants (at most ~500
// alive in the same measurement). Callers that dispose() their runs never get there and never pay.
const HEAVY_AFTER = 64;
const ballast = new WeakMap();   // run -> its ArrayBuffer
const runBytes = new WeakMap();  // model -> module bytes taken by its first run

function weigh(run, model) {
  const bytes = runBytes.get(model) ?? 0;
  if (undisposed <= HEAVY_AFTER || bytes === 0) return;
  try {
    ballast.set(run, new ArrayBuffer(bytes));
  } catch {
    // no memory even for that: the run goes without, the registry still frees it once collected
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

export class Model {
  #M;
  #handle;

  constructor(M, bytes, origin, dequantizeUpTo) {
    this.#M = M;
    const pointer = allocate(M, bytes.length, 'model file');
    try {
      M.HEAPU8.set(bytes, pointer);  // the view is read after malloc: it may have grown the memory
      this.#handle = withString(M, origin, 'model name', (name) =>
        callHandle(M, M._sw_model_load(pointer, bytes.length, name, dequantizeUpTo)));
    } catch (error) {
      if (error instanceof StepwiseError && error.message.startsWith(OUT_OF_MEMORY)) {
        throw new StepwiseError(`${doesNotFit(M, 'model file', bytes.length)}: the engine ran out of memory while loading it`);
      }
      throw error;
    } finally {
      M._free(pointer);
    }
    track(this, M, '_sw_model_free', this.#handle);
    const c = JSON.parse(M.UTF8ToString(callPointer(M, M._sw_model_config(this.#handle))));
    /** The model's configuration as stored in its file (see weights/README.md). */
    this.config = c;
    this.parameters = M._sw_model_parameters(this.#handle);
    /** Bytes its weights hold in the module's memory: 4 per float32 weight, 1 per int8 one (and its row's scale). */
    this.weightBytes = M._sw_model_weight_bytes(this.#handle);
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

  /**
   * Starts a run on `text` (a word for the G2P model). Options (see DEFAULT_OPTIONS; left out or
   * undefined: the default): strategy 'greedy' | 'sample' | 'beam'; temperature, topK, topP, seed
   * (sampling); beamWidth, lengthPenalty, nBest (beam search); maxLength. Throws StepwiseError for an
   * unknown option, a value of the wrong type or out of range, or text with a NUL or a lone surrogate.
   * A decoder-only model also takes '': the run then starts from <s> alone and writes a sequence of its
   * own (a G2P decoder-only model invents a word, <sep>, its pronunciation); inputIds is then empty.
   */
  start(text, options = {}) {
    return new Run(this, this.#M, text, decodeOptions(options));
  }

  /**
   * The teacher-forced pass: the whole target (<s> + targetText) in parallel, under the causal mask or
   * without it. Returns the target tokens, logits (T x V, row-major), the training loss ({ nll[T],
   * crossEntropy, smoothed, labelSmoothing }: each position predicts the next token, the last one </s>)
   * and attention [layer][head] -> T x T / T x S, all copies.
   */
  forward(text, targetText, { causal = true } = {}) {
    const run = this.start(text);
    try {
      const r = run.forward(targetText, { causal });
      const copy = (heads) => heads.map((layer) => layer.map((m) => m.slice()));
      const loss = { ...r.loss, nll: r.loss.nll.slice() };
      return { ...r, logits: r.logits.slice(), loss, selfAttention: copy(r.selfAttention), crossAttention: copy(r.crossAttention) };
    } finally {
      run.dispose();
    }
  }

  tokenText(id) {
    return this.targetTokens[id];
  }

  /**
   * Frees the model's weights inside the module now (runs already started keep them until they are
   * disposed). Call it when done; see the note at the top of this file.
   */
  dispose() {
    if (this.#handle !== 0) {
      untrack(this);
      this.#M._sw_model_free(this.#handle);
      this.#handle = 0;
    }
  }
}

export class Run {
  #M;
  #session;
  #model;
  #beamBefore = null;  // beam search: beamState() after the last step (null: read it before the next)

  constructor(model, M, text, options) {
    this.#M = M;
    this.#model = model;
    this.options = options;  // checked by decodeOptions
    const o = options;
    const args = [STRATEGIES[o.strategy], o.temperature, o.topK, o.topP, o.seed, o.beamWidth, o.lengthPenalty, o.nBest, o.maxLength];
    checkText(text, 'input');
    const before = runBytes.has(model) ? null : M._sw_heap_allocated();
    this.#session = callHandle(M, M._sw_session_new(model.handle));
    track(this, M, '_sw_session_free', this.#session);
    try {
      callInt(M, M._sw_session_configure(this.#session, ...args));
      callInt(M, M._sw_session_set_probe(this.#session, o.probe ? 1 : 0));
      const n = withString(M, text, 'input', (pointer) => callInt(M, M._sw_session_start(this.#session, pointer)));
      this.inputIds = n > 0 ? i32(M, M._sw_session_input(this.#session), n) : [];  // (n = 0: decoder-only, from <s>)
      if (before !== null) runBytes.set(model, Math.max(0, M._sw_heap_allocated() - before));
      weigh(this, model);
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
   * crossAttention[l][h], done }. Beam search: { beams, results, finished, finishedNow, selfAttention,
   * crossAttention, done }, the attention being that of the best live beam. Each hypothesis that this
   * step made (every beam, and finishedNow: the ones it finished) carries `parent`: the index of the
   * beam it extends among the beams before the step (the engine copies that beam's tokens and appends
   * one, so the parent is the one beam whose tokens are its own but the last; live beams are distinct).
   */
  step() {
    const M = this.#M;
    const s = this.#handle;
    const S = this.#model.encoderDecoder ? this.inputIds.length : 0;
    // a run sizes its attention rows for itself: [self, cross] row strides
    const strides = () => i32(M, callPointer(M, M._sw_session_attention_strides(s)), 2);
    if (this.beam) {
      const before = this.#beamBefore ?? this.beamState();
      const live = callInt(M, M._sw_beam_step(s));
      const state = this.beamState();
      this.#beamBefore = state;
      const parentOf = (h) => before.beams.findIndex((b) => b.ids.length === h.ids.length - 1 && b.ids.every((id, k) => id === h.ids[k]));
      state.beams = state.beams.map((h) => ({ ...h, parent: parentOf(h) }));
      state.finishedNow = state.finished.slice(before.finished.length).map((h) => ({ ...h, parent: parentOf(h) }));
      let self = [];
      let cross = [];
      if (live > 0) {
        const position = callInt(M, M._sw_beam_position(s, 0));
        const [selfStride, crossStride] = strides();
        self = perHeadRows(M, callPointer(M, M._sw_beam_self_attention(s, 0)), this.layers, this.heads, selfStride, position);
        cross = perHeadRows(M, callPointer(M, M._sw_beam_cross_attention(s, 0)), this.layers, this.heads, crossStride, S);
      }
      return { ...state, selfAttention: self, crossAttention: cross, done: this.done };
    }
    const id = callInt(M, M._sw_session_step(s));
    const position = callInt(M, M._sw_session_position(s));
    const [selfStride, crossStride] = strides();  // (before any view below: this call may allocate)
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
      selfAttention: perHeadRows(M, callPointer(M, M._sw_session_self_attention(s)), this.layers, this.heads, selfStride, position),
      crossAttention: perHeadRows(M, callPointer(M, M._sw_session_cross_attention(s)), this.layers, this.heads, crossStride, S),
      done: this.done,
    };
  }

  /**
   * Teacher forcing one step at a time (greedy and sampling runs): the token the last step chose becomes
   * `token` (a token's text or id), so the next step feeds it and the KV cache holds it, as a teacher-forced
   * pass over the same tokens reads them. ids, tokens and done follow the token fed. Throws StepwiseError
   * before the first step or for a token the model does not have.
   */
  replaceLast(token) {
    const M = this.#M;
    const m = this.#model;
    if (this.beam) throw new StepwiseError('replaceLast: beam search keeps several hypotheses; it replaces tokens in greedy and sampling runs');
    const id = typeof token === 'string' ? m.targetTokens.indexOf(token) : token;
    if (typeof token === 'string' && id < 0) throw new StepwiseError(`replaceLast: the model has no token ${describe(token)}`);
    if (!Number.isInteger(id)) throw new StepwiseError(`replaceLast: a token's text or integer id, got ${describe(token)}`);
    // (checked here too: the binding takes an int32, so a larger id would wrap into the vocabulary)
    const V = m.targetTokens.length;
    if (id < 0 || id >= V) throw new StepwiseError(`replaceLast: token ${id} is outside the target vocabulary [0, ${V})`);
    callInt(M, M._sw_session_replace_last(this.#handle, id));
    this.ids[this.ids.length - 1] = id;
    this.tokens[this.tokens.length - 1] = m.targetTokens[id];
  }

  /**
   * Beam search: the live beams (best log-probability first), the results (the n_best finished
   * hypotheses, best score first) and every hypothesis finished so far (in the order they finished),
   * with their text.
   */
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
    return { beams: json.live.map(describe), results: json.results.map(describe), finished: json.finished.map(describe) };
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

  /**
   * Teacher forcing on this run's input: see Model.forward. With { probe: true } the pass also records
   * every intermediate, for inside({ teacherForced: true }).
   */
  forward(targetText, { causal = true, probe = false } = {}) {
    const M = this.#M;
    const s = this.#handle;
    const c = this.#model.config;
    const mask = causalOption(causal) ? 1 : 0;
    if (typeof probe !== 'boolean') throw new StepwiseError(`option probe must be true or false, got ${describe(probe)}`);
    const T = withString(M, targetText, 'target', (pointer) => callInt(M, M._sw_forward(s, pointer, mask, probe ? 1 : 0)));
    const S = this.#model.encoderDecoder ? this.inputIds.length : 0;
    const V = this.#model.targetTokens.length;
    const ids = i32(M, callPointer(M, M._sw_forward_target(s)), T);
    const logits = f32(M, callPointer(M, M._sw_forward_logits(s)), T * V);
    const heads = (f, width) =>
      Array.from({ length: c.n_decoder_layers }, (_, l) =>
        Array.from({ length: c.n_heads }, (_, h) => f32(M, callPointer(M, f(s, l, h)), T * width)),
      );
    const loss = new Float64Array(M.HEAPF32.buffer, callPointer(M, M._sw_forward_loss(s)), 2 + T);
    return {
      ids,
      tokens: ids.map((t) => this.#model.targetTokens[t]),
      logits,
      // the training loss (tools/train_g2p.py): -log p of each next token (the last one </s>), their mean,
      // and the mean with label smoothing 0.1 (what training optimises)
      loss: { nll: loss.subarray(2), crossEntropy: loss[0], smoothed: loss[1], labelSmoothing: 0.1 },
      selfAttention: heads(M._sw_forward_self_attention, T),
      crossAttention: this.#model.encoderDecoder ? heads(M._sw_forward_cross_attention, S) : [],
    };
  }

  /**
   * "Open the box": the numbers inside decoder layer `layer` for attention head `head`, as the engine
   * computed them (zero-copy views, valid until the next call into the module: .slice() what you keep).
   *
   * Of the last step (a run started with { probe: true }), each a vector of d_model (d_ff for hidden):
   *   token_embedding (x sqrt(d_model) when the model scales), positional, final_normed;
   *   input (the residual stream entering the layer), hidden (feed-forward units after the activation);
   *   {self,cross,ff}_block.{normed,output,sum} (its LayerNorm's output, the sub-layer's output, x + it);
   *   {self,cross}_attention.{query,context} (self_attention also key, value: this position's),
   *   {self,cross}_attention.{raw,scaled,weights}: this head's q.k, (q / sqrt(d_k)).k and softmax over
   *     the keys attended (positions 0..position, or the source; stepping adds no mask: the cache holds
   *     no future);
   *   cache.{key,value}: the self-attention KV cache after this step, [position + 1, d_model];
   *   cross_cache.{key,value}, memory: the encoder's, [S, d_model], computed once per input.
   * Of the last teacher-forced pass (forward(..., { probe: true }); teacherForced: true), the same names
   * as [T, ...] matrices, attention as [T, keys] per head, plus {self,cross}_attention.mask (0 / -Infinity).
   *
   * `only`: a list of these names, to fetch just those (each name is one lookup in the module; a page
   * that copies a few of them per head need not look up all of them); a name not recorded here is refused.
   *
   * Returns { position, token (of the step), layer, head, tensors: { name: { data, shape } } }.
   */
  inside({ layer = 0, head = 0, teacherForced = false, only = null } = {}) {
    const M = this.#M;
    const s = this.#handle;
    const c = this.#model.config;
    for (const [key, value, limit] of [['layer', layer, c.n_decoder_layers], ['head', head, c.n_heads]]) {
      if (!Number.isInteger(value) || value < 0 || value >= limit) {
        throw new StepwiseError(`inside(): ${key} must be an integer in [0, ${limit}), got ${describe(value)}`);
      }
    }
    const pass = teacherForced ? 1 : 0;
    const cross = this.#model.encoderDecoder;
    const names = ['token_embedding', 'positional', 'final_normed', 'input', 'hidden'];
    for (const block of cross ? ['self_block', 'cross_block', 'ff_block'] : ['self_block', 'ff_block']) {
      names.push(`${block}.normed`, `${block}.output`, `${block}.sum`);
    }
    for (const kind of cross ? ['self_attention', 'cross_attention'] : ['self_attention']) {
      names.push(`${kind}.query`, `${kind}.context`, `${kind}.raw`, `${kind}.scaled`, `${kind}.weights`);
      if (teacherForced) names.push(`${kind}.key`, `${kind}.value`, `${kind}.mask`);
    }
    if (!teacherForced) {
      names.push('self_attention.key', 'self_attention.value', 'cache.key', 'cache.value');
      if (cross) names.push('cross_cache.key', 'cross_cache.value', 'memory');
    }
    let wanted = names;
    if (only !== null) {
      if (!Array.isArray(only)) throw new StepwiseError(`inside(): only must be a list of names, got ${describe(only)}`);
      const unknown = only.find((name) => !names.includes(name));
      if (unknown !== undefined) {
        throw new StepwiseError(`inside(): ${describe(unknown)} is not recorded ${teacherForced ? 'by a teacher-forced pass' : 'for a step'} of this model (names: ${names.join(', ')})`);
      }
      wanted = names.filter((name) => only.includes(name));
    }
    // Every pointer first, then the views: a call may grow the memory and detach earlier views.
    const found = wanted.map((name) => {
      const pointer = callPointer(M, M._sw_probe(s, pass, probeName(M, name), layer, head));
      const [rows, cols] = i32(M, callPointer(M, M._sw_probe_shape(s)), 3);
      return [name, pointer, rows, cols];
    });
    const position = teacherForced ? -1 : callInt(M, M._sw_probe_position(s));
    const tensors = {};
    for (const [name, pointer, rows, cols] of found) {
      const vector = !teacherForced && !STEP_MATRICES.has(name);  // a step's own values are vectors
      tensors[name] = { data: f32(M, pointer, rows * cols), shape: vector ? [cols] : [rows, cols] };
    }
    return {
      layer,
      head,
      position,
      token: teacherForced ? null : this.tokens.at(-1) ?? null,
      headDim: c.d_model / c.n_heads,
      tensors,
    };
  }

  /** Frees the run's buffers inside the module now. Call it when done; see the note at the top of this file. */
  dispose() {
    if (this.#session !== 0) {
      untrack(this);
      this.#M._sw_session_free(this.#session);
      this.#session = 0;
    }
  }
}
