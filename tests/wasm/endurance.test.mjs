// Endurance of the WebAssembly build: 10,000 consecutive generations (start -> steps -> dispose) on
// random words with random options through the JavaScript wrapper, as a page would run them. The
// module's memory must not grow after a warm-up, and the bytes allocated on its heap must stay flat:
// every run frees what it allocated.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const G2P = new URL('../../weights/g2p-cmudict.safetensors', import.meta.url);
const FIXTURE = new URL('../fixtures/prenorm_relu_mixed_depth.safetensors', import.meta.url);
const GENERATIONS = Number(process.env.STEPWISE_ENDURANCE ?? 10000);

test(`${GENERATIONS} generations leave the WebAssembly heap flat`, async () => {
  const path = existsSync(G2P) ? G2P : FIXTURE;
  const model = await Stepwise.load(readFileSync(path), { name: path.pathname });
  const M = await Stepwise.module();
  const letters = model.sourceTokens.filter((t) => !t.startsWith('<'));
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = (n) => Math.floor(random() * n);
  const warmUp = Math.min(500, Math.floor(GENERATIONS / 10));
  let before = 0;
  let tokens = 0;
  let rejected = 0;
  for (let i = 0; i < GENERATIONS; i++) {
    if (i === warmUp) before = { memory: M.HEAP8.length, allocated: M._sw_heap_allocated() };
    let word = Array.from({ length: 1 + pick(12) }, () => letters[pick(letters.length)]).join(model.encoderDecoder ? '' : ' ');
    if (i % 50 === 0) word = `${word}É`;  // now and then an invalid input, which must fail cleanly
    const strategy = ['greedy', 'sample', 'beam'][i % 3];
    try {
      const run = model.start(word, { strategy, temperature: 0.2 + 2 * random(), topK: pick(10), topP: 0.05 + 0.95 * random(), seed: pick(1000), beamWidth: 1 + pick(6) });
      while (!run.done) {
        run.step();
        tokens++;
      }
      run.dispose();
    } catch (error) {
      assert.equal(error.name, 'StepwiseError');
      rejected++;
    }
  }
  const after = { memory: M.HEAP8.length, allocated: M._sw_heap_allocated() };
  console.log(`${GENERATIONS} generations (${tokens} steps, ${rejected} rejected inputs): ` +
    `after warm-up ${before.allocated} bytes allocated of ${before.memory}; at the end ${after.allocated} of ${after.memory}`);
  assert.equal(after.memory, before.memory);
  // a leak of even a few bytes per run would add up to tens of kilobytes over the runs
  assert.ok(Math.abs(after.allocated - before.allocated) <= 1024, 'allocated bytes stay flat');
  model.dispose();
});
