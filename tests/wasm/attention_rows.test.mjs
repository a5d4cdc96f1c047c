// A run sizes its attention rows for itself -- self rows for its positions (fewer with a length limit),
// cross rows for its source -- not for the model's max_target_len and max_source_len. Read at the
// strides the module reports (sw_session_attention_strides), a step's rows are PyTorch's, whatever the
// options. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const NAMES = ['postnorm_relu_sinusoidal', 'prenorm_gelu_learned_tied', 'postnorm_gelu_3layers_1head', 'prenorm_relu_mixed_depth',
  'decoder_only_prenorm_gelu', 'decoder_only_postnorm_relu'];
const TOLERANCE = 1e-5;  // as tests/wasm/fixtures.test.mjs

const loadFixture = (name) => Stepwise.load(readFileSync(new URL(`${name}.safetensors`, FIXTURES)), { name });
const golden = (name) => JSON.parse(readFileSync(new URL(`${name}.golden.json`, FIXTURES), 'utf8'));

// The case's input as text: the source's letters, or a decoder-only model's prompt.
const inputOf = (model, c) =>
  model.encoderDecoder ? c.source.map((id) => model.sourceTokens[id]).join('') : c.prompt.map((id) => model.targetTokens[id]).join(' ');

for (const name of NAMES) {
  test(`${name}: the first step's attention rows are PyTorch's, with or without a length limit, greedy or beam`, async () => {
    const model = await loadFixture(name);
    for (const c of golden(name).cases) {
      // the first step feeds <s> (and a decoder-only model's prompt): its rows are the teacher-forced row
      // of the last position fed, the same for every target
      const row = model.encoderDecoder ? 0 : c.prompt.length;
      for (const options of [{}, { maxLength: 1 }, { maxLength: 2 }, { strategy: 'beam', beamWidth: 3 }]) {
        const run = model.start(inputOf(model, c), options);
        const step = run.step();
        const where = `${JSON.stringify(options)}, source ${JSON.stringify(c.source ?? c.prompt)}`;
        if (!run.beam) {  // (a beam search may have finished every beam at once: then there are no rows)
          assert.equal(step.selfAttention.length, run.layers);
          assert.equal(step.crossAttention.length, run.layers);
        }
        step.selfAttention.forEach((layer, l) =>
          layer.forEach((values, h) => {
            assert.equal(values.length, row + 1, `self ${l}.${h} ${where}`);
            values.forEach((x, j) => assert.ok(Math.abs(x - c.masked.self_attention[l][h][row][j]) <= TOLERANCE, `self ${l}.${h} ${where}`));
          }),
        );
        step.crossAttention.forEach((layer, l) =>
          layer.forEach((values, h) =>
            values.forEach((x, j) => assert.ok(Math.abs(x - c.masked.cross_attention[l][h][row][j]) <= TOLERANCE, `cross ${l}.${h} ${where}`)),
          ),
        );
        run.dispose();
      }
    }
    model.dispose();
  });
}
