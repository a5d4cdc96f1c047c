// The training loss through the JavaScript API: run.forward() on the dictionary pronunciation gives
// PyTorch's F.cross_entropy (per position, mean, label smoothing 0.1) for the shipped G2P model, as
// recorded in tests/fixtures/g2p_parity.json by tools/make_g2p_fixture.py. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const ROOT = new URL('../../', import.meta.url);

test('run.forward(reference).loss equals PyTorch\'s cross-entropy on 20 test words', async () => {
  const model = await Stepwise.load(readFileSync(new URL('weights/g2p-cmudict.safetensors', ROOT)));
  const fixture = JSON.parse(readFileSync(new URL('tests/fixtures/g2p_parity.json', ROOT), 'utf8'));
  let checked = 0;
  for (const c of fixture.cases.filter((c) => c.reference)) {
    // <s> + pronunciation + </s>: the text fed is the pronunciation; </s> is what the last row predicts
    const phonemes = c.reference.slice(1, -1).map((id) => model.targetTokens[id]).join(' ');
    const r = model.forward(c.word, phonemes);
    assert.equal(r.loss.nll.length, c.nll.length, c.word);
    c.nll.forEach((x, i) => assert.ok(Math.abs(r.loss.nll[i] - x) < 1e-4, `${c.word} position ${i}: ${r.loss.nll[i]} vs ${x}`));
    assert.ok(Math.abs(r.loss.crossEntropy - c.cross_entropy) < 1e-5, c.word);
    assert.ok(Math.abs(r.loss.smoothed - c['smoothed_0.1']) < 1e-5, c.word);
    checked++;
  }
  assert.equal(checked, 20);
  model.dispose();
});
