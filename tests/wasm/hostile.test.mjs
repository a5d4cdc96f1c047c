// Hostile callers of the JavaScript wrapper (web/stepwise.js): model files that do not fit in WebAssembly
// memory, an exhausted heap, option values that would wrap through the binding's 32-bit integers and
// floats, text the UTF-8 conversion would cut or garble, and runs left to the garbage collector instead
// of dispose(). Every failure must be a StepwiseError that names what is wrong, and the module must keep
// working afterwards: the same module instance then loads the shipped model and gives the same tokens
// as before. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const G2P = new URL('../../weights/g2p-cmudict.safetensors', import.meta.url);
const STEPWISE_JS = new URL('../../web/stepwise.js', import.meta.url);
const WORD = 'phoenix';

const stepwiseError = (pattern) => (error) => {
  assert.equal(error.name, 'StepwiseError', `${error.name}: ${error.message}`);
  assert.match(error.message, pattern);
  return true;
};

// The first greedy token and the whole greedy output for WORD, on a freshly loaded copy of the model.
async function reference() {
  const model = await Stepwise.load(readFileSync(G2P), { name: 'g2p-cmudict.safetensors' });
  const run = model.start(WORD);
  const first = run.step().token;
  const text = run.complete();
  run.dispose();
  model.dispose();
  return { first, text };
}

// Records every size the wrapper asks the module's malloc for, and what malloc returned.
function spyOnMalloc(M) {
  const malloc = M._malloc;
  const calls = [];
  M._malloc = (size) => {
    const pointer = malloc(size);
    calls.push({ size, pointer });
    return pointer;
  };
  return { calls, restore: () => (M._malloc = malloc) };
}

// --- 7. Model files that do not fit in WebAssembly memory ------------------------------------------------

// How the malloc failure is reached without a real multi-gigabyte file: Node backs a large ArrayBuffer
// with untouched zero pages, so `new ArrayBuffer(3e9)` costs almost no resident memory; the wrapper
// reads it only after the module's malloc has returned room for it. The module (cmake/wasm.cmake) sets no
// MAXIMUM_MEMORY, so it may grow to Emscripten's default of 2 GiB (the binding reports it:
// sw_heap_max). Two sizes:
//   - 3,000,000,000 bytes: more than the module could ever hold (and more than the binding's 32-bit
//     size), refused before any allocation;
//   - the heap's maximum less one byte: accepted by those checks, so it really reaches malloc, which
//     must return 0 because the runtime's static data and stack already hold part of the
//     2 GiB. The spy below checks that this malloc call was made and returned 0.
test('a model file too big for WebAssembly memory fails naming its size; the module keeps working', async () => {
  const M = await Stepwise.module();
  const before = await reference();

  await assert.rejects(
    Stepwise.load(new ArrayBuffer(3_000_000_000), { name: 'huge.safetensors' }),
    stepwiseError(/^model file of 3,000,000,000 bytes does not fit in WebAssembly memory \(at most 2,147,483,648 bytes, [\d,]+ of them in use\)$/),
  );

  const max = M._sw_heap_max();
  assert.equal(max, 2 ** 31, 'the module can grow to 2 GiB (Emscripten\'s default MAXIMUM_MEMORY)');
  const size = max - 1;
  const spy = spyOnMalloc(M);
  try {
    await assert.rejects(
      Stepwise.load(new Uint8Array(size), { name: 'almost.safetensors' }),
      stepwiseError(/^model file of 2,147,483,647 bytes does not fit in WebAssembly memory \(at most 2,147,483,648 bytes, [\d,]+ of them in use\)$/),
    );
  } finally {
    spy.restore();
  }
  assert.ok(spy.calls.some((c) => c.size === size && c.pointer === 0), `malloc(${size}) was called and failed: ${JSON.stringify(spy.calls)}`);
  assert.equal(M._sw_live_handles(), 0, 'no model or run is left behind');

  // The same module instance: a normal load, one step, the same token as before the failures.
  const model = await Stepwise.load(readFileSync(G2P), { name: 'g2p-cmudict.safetensors' });
  const run = model.start(WORD);
  assert.equal(run.step().token, before.first);
  assert.equal(run.complete(), before.text);
  run.dispose();
  model.dispose();
});

// --- 8. Option values and characters ----------------------------------------------------------------------

test('integer options that would wrap through 32 bits are refused with the engine\'s wording', async () => {
  const model = await Stepwise.load(readFileSync(G2P), { name: 'g2p-cmudict.safetensors' });
  const refused = [
    // [options, message]
    [{ strategy: 'sample', topK: 2 ** 32 }, /^option topK: top_k must be 0 \(off\) or a positive number of tokens \(at most 2147483647\), got 4294967296$/],
    [{ strategy: 'sample', topK: -1 }, /^option topK: top_k must be 0 \(off\) or a positive number of tokens \(at most 2147483647\), got -1$/],
    [{ strategy: 'beam', beamWidth: 2 ** 32 + 3 }, /^option beamWidth: beam width must be between 1 and 64, got 4294967299$/],
    [{ strategy: 'beam', beamWidth: 65 }, /^option beamWidth: beam width must be between 1 and 64, got 65$/],
    [{ maxLength: 2 ** 32 + 1 }, /^option maxLength: max_length must be 0 \(the model's limit\) or positive \(at most 2147483647\), got 4294967297$/],
    [{ maxLength: -1 }, /^option maxLength: max_length must be 0 \(the model's limit\) or positive \(at most 2147483647\), got -1$/],
    [{ strategy: 'beam', beamWidth: 3, nBest: 2 ** 32 + 1 }, /^option nBest: n_best must be between 1 and the beam width 3, got 4294967297$/],
    [{ strategy: 'beam', nBest: 6 }, /^option nBest: n_best must be between 1 and the beam width 5, got 6$/],
    [{ strategy: 'sample', seed: 2 ** 53 }, /^option seed: seed must be a whole number in \[0, 2\^53\), got 9007199254740992$/],
    [{ strategy: 'sample', seed: -1 }, /^option seed: seed must be a whole number in \[0, 2\^53\), got -1$/],
  ];
  for (const [options, message] of refused) assert.throws(() => model.start(WORD, options), stepwiseError(message), JSON.stringify(options));

  // At the edges of their ranges the same options are accepted, and do what they say.
  const longest = model.start(WORD, { maxLength: 2 ** 31 - 1 }).complete();
  assert.equal(longest, model.start(WORD).complete());
  const one = model.start(WORD, { maxLength: 1 });
  one.step();
  assert.equal(one.done, true, 'maxLength 1 stops after one token');
  assert.equal(model.start(WORD, { strategy: 'sample', topK: 2 ** 31 - 1, seed: 2 ** 53 - 1 }).complete().length > 0, true);
  assert.equal(model.start(WORD, { strategy: 'beam', beamWidth: 64, nBest: 64, maxLength: 2 }).complete().length > 0, true);
  model.dispose();
});

test('number options must be finite numbers of the right kind; floats are checked as the engine sees them', async () => {
  const model = await Stepwise.load(readFileSync(G2P), { name: 'g2p-cmudict.safetensors' });
  const refused = [
    [{ strategy: 'sample', topK: Infinity }, /^option topK must be an integer, got Infinity$/],
    [{ strategy: 'sample', topK: NaN }, /^option topK must be an integer, got NaN$/],
    [{ strategy: 'sample', topK: 2.5 }, /^option topK must be an integer, got 2\.5$/],
    [{ strategy: 'sample', topK: 5n }, /^option topK must be an integer, got 5n$/],
    [{ strategy: 'sample', topK: null }, /^option topK must be an integer, got null$/],
    [{ strategy: 'sample', temperature: Infinity }, /^option temperature must be a finite number, got Infinity$/],
    [{ strategy: 'sample', temperature: -Infinity }, /^option temperature must be a finite number, got -Infinity$/],
    [{ strategy: 'sample', temperature: NaN }, /^option temperature must be a finite number, got NaN$/],
    [{ strategy: 'sample', temperature: '0.5' }, /^option temperature must be a finite number, got "0\.5"$/],
    [{ strategy: 'sample', temperature: {} }, /^option temperature must be a finite number, got an object$/],
    [{ strategy: 'sample', temperature: 101 }, /^option temperature: temperature must be greater than 0 and at most 100, got 101$/],
    // positive, but 0 once the binding passes it on as a 32-bit float
    [{ strategy: 'sample', temperature: 1e-46 }, /^option temperature: temperature must be greater than 0 and at most 100, got 1e-46 \(0 as a 32-bit float\)$/],
    [{ strategy: 'sample', topP: 1e-46 }, /^option topP: top_p must be in \(0, 1\], got 1e-46 \(0 as a 32-bit float\)$/],
    [{ strategy: 'sample', topP: 1 + 1e-12 }, /^option topP: top_p must be in \(0, 1\], got 1\.000000000001$/],
    [{ strategy: 'beam', lengthPenalty: 10.5 }, /^option lengthPenalty: length_penalty must be between -10 and 10, got 10\.5$/],
    [{ strategy: 'beam', lengthPenalty: -Infinity }, /^option lengthPenalty must be a finite number, got -Infinity$/],
    [{ strategy: 'sample', seed: 1.5 }, /^option seed must be an integer, got 1\.5$/],
    [{ strategy: 'toString' }, /^option strategy: unknown strategy "toString" \(greedy, sample, beam\)$/],
    [{ strategy: 2 }, /^option strategy: unknown strategy 2 \(greedy, sample, beam\)$/],
    [{ topk: 5 }, /^unknown option "topk" \(the options are strategy, temperature, topK, topP, seed, beamWidth, lengthPenalty, nBest, maxLength, probe\)$/],
  ];
  for (const [options, message] of refused) assert.throws(() => model.start(WORD, options), stepwiseError(message), String(Object.keys(options)));
  assert.throws(() => model.start(WORD, 'beam'), stepwiseError(/^options must be an object, got "beam"$/));
  assert.throws(() => model.start(WORD, [5]), stepwiseError(/^options must be an object, got an array$/));
  assert.throws(() => model.forward(WORD, 'F IY1', { causal: 'no' }), stepwiseError(/^option causal must be true or false, got "no"$/));
  // undefined means "the default", as for any JavaScript options object
  assert.equal(model.start(WORD, { topK: undefined, strategy: undefined }).complete(), model.start(WORD).complete());
  model.dispose();
});

test('a NUL or a lone surrogate in the text is refused, naming the character and its position', async () => {
  const model = await Stepwise.load(readFileSync(G2P), { name: 'g2p-cmudict.safetensors' });
  const refused = [
    ['pho\0enix', /^input: NUL \(U\+0000\) at position 4 is not allowed \(it would end the text there\)$/],
    ['\0', /^input: NUL \(U\+0000\) at position 1 is not allowed/],
    ['\uD800', /^input: lone surrogate U\+D800 at position 1 is not a character \(half of a UTF-16 pair without its other half\)$/],
    ['pho\uD800enix', /^input: lone surrogate U\+D800 at position 4 is not a character/],
    ['phoenix\uDFFF', /^input: lone surrogate U\+DFFF at position 8 is not a character/],
    ['pho\uDC00\uD800', /^input: lone surrogate U\+DC00 at position 4 is not a character/],  // low before high: no pair
    // positions count characters: the pair before it is one character
    ['\u{1F600}\uDBFF', /^input: lone surrogate U\+DBFF at position 2 is not a character/],
  ];
  for (const [text, message] of refused) assert.throws(() => model.start(text), stepwiseError(message), JSON.stringify(text));
  // A whole pair is one character, and reaches the engine as itself (not in this model's vocabulary).
  assert.throws(() => model.start('a\u{1F600}'), stepwiseError(/^input: '\u{1F600}' \(U\+1F600\) at position 2 is not in the model's vocabulary/u));
  assert.throws(() => model.start(42), stepwiseError(/^input must be text, got 42$/));

  assert.throws(() => model.forward(WORD, 'F IY1\0 N'), stepwiseError(/^target: NUL \(U\+0000\) at position 6 is not allowed/));
  assert.throws(() => model.forward(WORD, '\uDC00'), stepwiseError(/^target: lone surrogate U\+DC00 at position 1 is not a character/));
  await assert.rejects(Stepwise.load(readFileSync(G2P), { name: 'g2p\0.safetensors' }), stepwiseError(/^model name: NUL \(U\+0000\) at position 4 is not allowed/));
  assert.equal(model.start(WORD).complete(), (await reference()).text, 'the model keeps working');
  model.dispose();
});

// --- 7 (continued). An exhausted heap ----------------------------------------------------------------------

// Takes every block malloc still gives, down to 64 bytes; returns their pointers.
function exhaust(M) {
  const blocks = [];
  for (let size = 2 ** 30; size >= 64; ) {
    const pointer = M._malloc(size);
    if (pointer === 0) size /= 2;
    else blocks.push(pointer);
  }
  return blocks;
}

// Every byte of the module's 2 GiB taken by the test itself (malloc until even 64 bytes fail): then
// every call that needs memory - copying a word in, a run's buffers, a model file and its weights -
// fails with a StepwiseError instead of writing to address 0 or aborting; once the test frees its
// blocks, the same instance works as before. Kept last: the module's memory stays grown to 2 GiB.
test('with the heap exhausted every call fails cleanly; freed, the module works again', async () => {
  const M = await Stepwise.module();
  const before = await reference();
  const bytes = readFileSync(G2P);
  const model = await Stepwise.load(bytes, { name: 'g2p-cmudict.safetensors' });
  const blocks = exhaust(M);
  try {
    assert.throws(() => model.start(WORD.repeat(2)), stepwiseError(/(^input of 15 bytes does not fit in WebAssembly memory|^out of WebAssembly memory)/));
    await assert.rejects(
      Stepwise.load(bytes, { name: 'g2p-cmudict.safetensors' }),
      stepwiseError(new RegExp(`^model file of ${bytes.length.toLocaleString('en-US')} bytes does not fit in WebAssembly memory \\(at most 2,147,483,648 bytes, [\\d,]+ of them in use\\)$`)),
    );
  } finally {
    blocks.forEach((pointer) => M._free(pointer));
  }
  // Room for the file (a hole of twice its size) but not for the weights the engine unpacks from it
  // (int8 to float: four times its size).
  const hole = M._malloc(2 * bytes.length);
  assert.notEqual(hole, 0);
  const rest = exhaust(M);
  M._free(hole);
  try {
    await assert.rejects(
      Stepwise.load(bytes, { name: 'g2p-cmudict.safetensors' }),
      stepwiseError(/^model file of [\d,]+ bytes does not fit in WebAssembly memory \(at most 2,147,483,648 bytes, [\d,]+ of them in use\): the engine ran out of memory while loading it$/),
    );
  } finally {
    rest.forEach((pointer) => M._free(pointer));
  }
  const run = model.start(WORD);
  assert.equal(run.step().token, before.first);
  assert.equal(run.complete(), before.text);
  run.dispose();
  model.dispose();
  assert.equal((await reference()).text, before.text);
});

// --- 9. Runs left to the garbage collector ------------------------------------------------------------------

// A child process (its own module instance and garbage collector) starts RUNS runs, steps each once and
// drops it, one in ten after dispose() and the rest without, yielding to the event loop every 100
// runs as a page or a server would. It reports the most live handles and heap bytes it saw, and every
// sw_session_free that failed: a handle freed twice (by dispose() and again by the registry) would be one.
// `forced`: node --expose-gc, gc() every 500 runs and at the end, then the handles still alive.
const RUNS = 10000;
function abandonRuns(mode) {
  const script = `
    import { readFileSync } from 'node:fs';
    import * as Stepwise from ${JSON.stringify(STEPWISE_JS.href)};
    const M = await Stepwise.module();
    const model = await Stepwise.load(readFileSync(new URL(${JSON.stringify(G2P.href)})));
    const forced = ${mode === 'forced'};
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
    const free = M._sw_session_free;
    let failedFrees = 0;
    M._sw_session_free = (handle) => {
      const status = free(handle);
      if (status !== 0) failedFrees++;
      return status;
    };
    const start = M._sw_heap_allocated();
    let peakBytes = 0, peakLive = 0;
    for (let i = 1; i <= ${RUNS}; i++) {
      const run = model.start(${JSON.stringify(WORD)});
      run.step();
      if (i % 10 === 0) run.dispose();
      if (forced && i % 500 === 0) gc();
      if (i % 100 === 0) {
        await tick();
        peakBytes = Math.max(peakBytes, M._sw_heap_allocated() - start);
        peakLive = Math.max(peakLive, M._sw_live_handles());
      }
    }
    if (forced) for (let i = 0; i < 3; i++) (gc(), await tick());
    console.log(JSON.stringify({ peakBytes, peakLive, finalLive: M._sw_live_handles(), failedFrees, model: model.parameters, memory: M.HEAP8.length }));
  `;
  const flags = mode === 'forced' ? ['--expose-gc'] : [];
  const child = spawnSync(process.execPath, [...flags, '--no-experimental-fetch', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop());
  console.log(`${mode}: ${RUNS} runs, 9 in 10 never disposed: at most ${result.peakLive} live handles, ` +
    `${result.peakBytes} heap bytes above the start; ${result.finalLive} handles alive at the end; memory ${result.memory} bytes`);
  assert.equal(result.failedFrees, 0, 'no handle is freed twice');
  return result;
}

// One undisposed G2P run holds about 140 kB of the module's heap: 9,000 of them, never freed, would hold
// 1.3 GB. Bounded: at most 1,000 handles (140 MB) alive at any time. (Measured before the wrapper
// weighed undisposed runs: up to 1,200-2,000 alive without forced collections, 180-300 MB.)
const BOUND = 1000;

test('runs dropped without dispose() are freed once collected (node --expose-gc, gc() every 500 runs)', () => {
  const r = abandonRuns('forced');
  assert.ok(r.peakBytes < BOUND * 150_000, `heap grew by ${r.peakBytes} bytes`);
  assert.ok(r.peakLive <= BOUND, `${r.peakLive} handles alive`);
  assert.equal(r.finalLive, 1, 'after the last collection only the model is alive');
});

test('runs dropped without dispose() are freed without forced collections: the wrapper makes the collector run', () => {
  const r = abandonRuns('natural');
  assert.ok(r.peakBytes < BOUND * 150_000, `heap grew by ${r.peakBytes} bytes`);
  assert.ok(r.peakLive <= BOUND, `${r.peakLive} handles alive`);
});
