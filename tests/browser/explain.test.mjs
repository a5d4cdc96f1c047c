// The page explains itself: a phoneme says what it sounds like (hover, tap or focus it: the output, the
// dictionary's pronunciation, the next-token bars, the attention matrix's tooltips), the stress digits are
// explained once, a model with another vocabulary gets no invented meaning; beam search writes its score
// with the numbers of the hypothesis shown (log p / length^α, as the engine computes it) and draws its tree
// of expansions from the engine's beams, one node per kept hypothesis per step, each joined to the beam
// it extends, finished ones marked, the winner the native CLI's. A screenshot goes to build/screenshots/
// (beam-tree.png, copied to docs/).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { dictionary } from 'cmu-pronouncing-dictionary';

import { PHONEMES, STRESS, explainPhoneme, explainerFor, isArpabet, splitExample } from '../../web/phonemes.js';
import { CLI, FIXTURES, SCREENSHOTS, baseline, launch, nativeGenerate, openPage, siteModelFile, startServer, state, stepToEnd, typeWord } from './helpers.mjs';

let browser;
let server;
let session;
let modelFile;

before(async () => {
  browser = await launch();
  server = await startServer();
  session = await openPage(browser, server.url, { width: 1440, height: 900 });
  modelFile = siteModelFile();
});

after(async () => {
  await browser?.close();
  server?.close();
});

const tooltip = (page) => page.$eval('#tooltip', (t) => (t.hidden ? null : t.innerText));

async function decode(page, word, strategy = 'greedy') {
  await baseline(page);
  await page.click(`label[for="strategy-${strategy}"]`);
  await typeWord(page, word);
  await page.click('#run');
  await page.waitForFunction(() => window.stepwiseState.done);
}

test('the phoneme table: 39 phonemes, each example word holds its sound in CMUdict, every token of the model explained', () => {
  const vowels = Object.keys(PHONEMES).filter((p) => PHONEMES[p].kind === 'vowel');
  assert.equal(Object.keys(PHONEMES).length, 39);
  assert.equal(vowels.length, 15);
  for (const [base, entry] of Object.entries(PHONEMES)) {
    for (const [example, stress] of [[entry.word, null], [entry.unstressed?.word, 0]]) {
      if (!example) continue;
      const { text } = splitExample(example);
      const phones = dictionary[text]?.split(' ') ?? [];
      const found = phones.some((p) => p.replace(/[012]$/, '') === base && (stress === null || p === `${base}${stress}`));
      assert.ok(found, `${base}: “${text}” is ${dictionary[text]} in CMUdict`);
    }
  }
  // the shipped model's target vocabulary: 69 phoneme tokens (15 vowels x 3 stresses + 24 consonants) and 3 specials
  const header = (bytes) => JSON.parse(JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0)))).__metadata__.stepwise);
  const config = header(readFileSync(modelFile));
  const model = { config, targetTokens: config.target_vocab.tokens };
  const explain = explainerFor(model);
  const phonemes = config.target_vocab.tokens.filter((t) => !/^</.test(t));
  assert.equal(phonemes.length, 69);
  for (const token of phonemes) assert.ok(explain(token)?.kind === (/\d$/.test(token) ? 'vowel' : 'consonant'), token);
  assert.equal(explain('</s>').kind, 'special');
  const ay1 = explainPhoneme('AY1');
  assert.match(ay1.text, /^AY1: the vowel of “bite” .*primary stress$/);
  assert.equal(ay1.example.sound, 'i');
  assert.equal(explainPhoneme('AH0').example.text, 'about');  // the schwa
  assert.equal(explainPhoneme('ER2').stressText, STRESS[2]);
  for (const unknown of ['XX', 'A', 'AY', 'B1', 'ay1', 'AY3', '<unk>', 'toString', 'constructor']) assert.equal(explainPhoneme(unknown), null, unknown);
  // a vocabulary of capital letters is not ARPAbet, though B, D, F and G are phonemes there
  const letters = { config: { target_vocab: { tokens: ['<pad>', '<s>', '</s>', 'A', 'B', 'C', 'D'], pad: '<pad>', bos: '<s>', eos: '</s>' } } };
  letters.targetTokens = letters.config.target_vocab.tokens;
  assert.equal(isArpabet(letters.targetTokens, ['<pad>', '<s>', '</s>']), false);
  for (const token of letters.targetTokens) assert.equal(explainerFor(letters)(token), null, token);
});

test('a phoneme explains itself on hover, focus and tap; the stress digits are explained once', async () => {
  const { page, errors } = session;
  await decode(page, 'knight');
  const s = await state(page);
  assert.deepEqual(s.produced, nativeGenerate(modelFile, ['knight']).get('knight').split(' ').concat('</s>'));
  const ay1 = page.locator('#output .token[data-phoneme="AY1"]');
  assert.equal(await ay1.count(), 1);

  await ay1.hover();
  const text = await tooltip(page);
  assert.ok(text, 'a tooltip on hover');
  assert.match(text, /AY1 vowel, as in bite/);
  assert.match(text, /primary stress/);
  assert.match(text, /produced by row 1/);  // what the title said, now in the tooltip
  assert.equal(await page.$eval('#tooltip .sound', (b) => b.textContent), 'i');
  assert.match(await ay1.getAttribute('aria-description'), /AY1: the vowel of “bite”.*primary stress/);

  // leaving hides it; keyboard focus shows it; a tap shows it and a tap elsewhere hides it
  await page.mouse.move(5, 5);
  assert.equal(await tooltip(page), null);
  await page.focus('#output .token[data-phoneme="T"]');
  assert.match(await tooltip(page), /T consonant, as in top/);
  await page.evaluate(() => document.activeElement.blur());
  assert.equal(await tooltip(page), null);
  await page.locator('#output .token[data-phoneme="N"]').dispatchEvent('click');
  assert.match(await tooltip(page), /N consonant, as in nose/);
  await page.mouse.click(5, 400);
  assert.equal(await tooltip(page), null);

  // the stress digits: explained once on the page, near the output, in the note
  const note = await page.textContent('#phoneme-note');
  assert.match(note, /0 no stress, 1 primary stress, 2 secondary stress/);
  const body = await page.evaluate(() => document.querySelector('main').innerText);
  assert.equal(body.split('1 primary stress').length - 1, 1, 'the stress note appears once');
  assert.deepEqual(errors, []);
});

test('the next-token bars, the dictionary line and the attention matrix explain their phonemes too', async () => {
  const { page, errors } = session;
  await decode(page, 'knight');
  // a bar: its probability and what the phoneme sounds like
  const bar = page.locator('#distribution .bar-row[data-token="</s>"]');
  await bar.hover();
  assert.match(await tooltip(page), /p = .*\n.*logit[\s\S]*end of sequence/);
  await page.click('#output .token[data-phoneme="AY1"]');  // row 1, which chose AY1: its bars
  await page.locator('#distribution .bar-row[data-token="AY1"]').hover();
  assert.match(await tooltip(page), /AY1 vowel, as in bite\nthe glide|AY1 vowel, as in bite[\s\S]*primary stress/);
  // a cell of masked self-attention: query AY1 (row 2), key N (column 1); found by moving the pointer
  // down the matrix to AY1's row, then along it to N's column (cells are at least 16 px: 8 px steps)
  await page.click('#tab-self');
  assert.deepEqual((await state(page)).drawn.rowLabels.slice(0, 3), ['<s>', 'N', 'AY1']);
  const box = await page.$eval('#main-map', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  let found = null;
  let rowY = null;
  for (let y = 4; y < box.h && rowY === null; y += 8) {
    for (const x of [box.w * 0.3, box.w * 0.45, box.w * 0.6]) {
      await page.mouse.move(box.x + x, box.y + y);
      if (/query AY1 /.test((await tooltip(page)) ?? '')) {
        rowY = y;
        break;
      }
    }
  }
  assert.ok(rowY !== null, 'the row of AY1');
  for (let x = 4; x < box.w && !found; x += 8) {
    await page.mouse.move(box.x + x, box.y + rowY);
    const t = await tooltip(page);
    if (t && /key N \(/.test(t)) found = t;
  }
  assert.ok(found, 'a cell with query AY1 and key N');
  assert.match(found, /AY1: the vowel of “bite”.*primary stress/);
  assert.match(found, /N: the consonant of “nose”/);
  await page.mouse.move(5, 5);
  assert.deepEqual(errors, []);
});

test('the dictionary line of a held-out word explains its phonemes', async () => {
  const { page, errors } = session;
  const words = await page.evaluate(() => document.querySelectorAll('#examples .chip').length);
  assert.ok(words > 0);
  await page.click('#surprise');
  assert.equal((await state(page)).steps, 0, 'the held-out word waits at step 0');
  await page.click('#run');
  await page.waitForFunction(() => window.stepwiseState.done);
  const spans = page.locator('#reference .phones [data-phoneme]');
  assert.ok(await spans.count() > 0, 'the dictionary line has phonemes');
  const first = spans.first();
  const token = await first.getAttribute('data-phoneme');
  await first.hover();
  assert.match(await tooltip(page), new RegExp(`^${token} (vowel|consonant), as in`));
  await page.mouse.move(5, 5);
  assert.deepEqual(errors, []);
});

test('a model with another vocabulary gets no explanation and no stress note', async () => {
  const { page, errors } = session;
  const name = 'postnorm_relu_sinusoidal.safetensors';
  await page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer: readFileSync(path.join(FIXTURES, name)) });
  await page.waitForFunction((n) => window.stepwiseState.model?.name === n && window.stepwiseState.ready, name);
  await page.click('label[for="strategy-greedy"]');
  await page.click('#run');  // a new model's word starts at step 0: decode it to the end
  await page.waitForFunction(() => window.stepwiseState.done);
  const s = await state(page);
  assert.ok(s.done && s.produced.length > 0);
  assert.equal(await page.locator('[data-phoneme]').count(), 0, 'no token explained');
  assert.equal(await page.isHidden('#phoneme-note'), true);
  // its tokens keep their plain titles
  assert.match(await page.locator('#output button.token').first().getAttribute('title'), /produced by row 0/);
  await page.selectOption('#model-select', { index: 0 });
  await page.waitForFunction(() => window.stepwiseState.model?.builtin);
  assert.deepEqual(errors, []);
});

/** The tree as drawn: [{ step, index, parent, state, tokens, logP, score, length, winner }]. */
const treeNodes = (page) => page.$$eval('#beam-tree .beam-node', (nodes) => nodes.map((g) => ({
  step: Number(g.dataset.step), index: Number(g.dataset.index), parent: Number(g.dataset.parent), state: g.dataset.state,
  tokens: g.dataset.tokens, logP: Number(g.dataset.logP), score: Number(g.dataset.score), length: Number(g.dataset.length),
  winner: g.classList.contains('winner'), label: g.querySelector('text').textContent,
})));

function checkTree(nodes, s, alpha) {
  const steps = s.beams.steps;
  // one node per kept hypothesis per step, in the engine's order (live beams, then the finished), plus <s>
  assert.equal(nodes.length, 1 + steps.reduce((n, k) => n + k.live.length + k.finished.length, 0));
  const at = (step, index) => nodes.find((n) => n.step === step && n.index === index);
  assert.equal(at(0, 0).state, 'root');
  steps.forEach((step, k) => {
    [...step.live, ...step.finished].forEach((h, i) => {
      const node = at(k + 1, i);
      assert.ok(node, `node ${k + 1}.${i}`);
      assert.equal(node.tokens, h.tokens.join(' '));
      assert.equal(node.parent, h.parent);
      // its parent is the beam whose tokens are its own but the last
      const parent = at(k, node.parent);
      assert.equal(parent.tokens, h.tokens.slice(0, -1).join(' '), `parent of ${node.tokens}`);
      assert.ok(['live', 'dropped', 'unexpanded'].includes(parent.state) || parent.state === 'root');
      assert.equal(node.logP, h.logProb);
      assert.ok(Math.abs(node.score - node.logP / node.length ** alpha) <= 1e-5 * Math.max(1, Math.abs(node.score)), `score of ${node.tokens}`);
      // finished ones marked: </s> chosen
      if (i >= step.live.length) {
        assert.equal(node.state, h.finished ? 'eos' : 'limit');
        if (h.finished) assert.equal(node.label, '</s>');
      }
    });
  });
}

test('beam search: the score in words with the engine\'s numbers, and the tree of expansions from its beams', async () => {
  const { page, errors } = session;
  for (const [word, width, alpha] of [['hello', 4, 1], ['quixotic', 3, 0.5]]) {
    await baseline(page);
    await page.click('label[for="strategy-beam"]');
    await page.fill('#beam-width', String(width));
    await page.dispatchEvent('#beam-width', 'change');
    await page.fill('#length-penalty', String(alpha));
    await page.dispatchEvent('#length-penalty', 'change');
    await typeWord(page, word);
    // step by step: after each step the tree has what the engine kept so far
    let s = await state(page);
    for (let k = 0; k < 3 && !s.done; k++) {
      await page.click('#step');
      s = await state(page);
      assert.equal(s.beams.steps.length, k + 1);
      checkTree(await treeNodes(page), s, alpha);
    }
    s = await stepToEnd(page);
    assert.equal(s.beams.width, width);
    assert.equal(s.beams.lengthPenalty, alpha);
    const nodes = await treeNodes(page);
    checkTree(nodes, s, alpha);

    // the native CLI's n-best list: each of its hypotheses is a finished node with the same score, its first the winner
    const out = execFileSync(CLI, ['generate', '--model', modelFile, '--beam', String(width), '--n-best', String(width), '--length-penalty', String(alpha), word], { encoding: 'utf8' });
    const expected = out.trim().split('\n').map((line) => {
      const [, phones, score] = line.split('\t');
      return { tokens: `${phones} </s>`, score: Number(score) };
    });
    assert.equal(expected.length, width);
    const finished = nodes.filter((n) => n.state === 'eos');
    for (const e of expected) {
      assert.ok(finished.some((n) => n.tokens === e.tokens && Math.abs(n.score - e.score) <= 2e-6), `${word}: ${e.tokens} (${e.score}) among the finished nodes`);
    }
    const winners = nodes.filter((n) => n.winner);
    assert.equal(winners.length, 1);
    assert.equal(winners[0].tokens, expected[0].tokens);
    assert.equal(winners[0].state, 'eos');
    assert.equal(s.output, expected[0].tokens.replace(/ <\/s>$/, ''));

    // the score in words: the winner's numbers, log p / length^α = score, as the trace has them
    const example = await page.$eval('#beams .score-example', (p) => ({ text: p.textContent, ...p.dataset }));
    const w = s.beams.steps.flatMap((k) => k.finished).find((h) => h.tokens.join(' ') === winners[0].tokens);
    assert.equal(Number(example.logP), w.logProb);
    assert.equal(Number(example.length), w.tokens.length);
    assert.equal(Number(example.score), w.score);
    assert.equal(Number(example.alpha), alpha);
    const num = (x) => x.toFixed(3).replace(/^-/, '−');
    assert.ok(example.text.includes(`${num(w.logProb)} / ${w.tokens.length}${alpha}`), example.text);
    assert.ok(example.text.includes(`= ${num(w.score)}`), example.text);
    assert.ok(example.text.includes(`length ${w.tokens.length}, α = ${alpha}`), example.text);
    assert.ok(Math.abs(w.score - w.logProb / w.tokens.length ** alpha) < 1e-5);
    const rule = await page.textContent('#beams .score-rule');
    assert.match(rule, new RegExp(`^Score = log p / lengthα, α = ${alpha}: .* Each step keeps the ${width} live beams with the highest log p`));
    const treeNote = await page.textContent('#beam-tree-note');
    assert.match(treeNote, new RegExp(`one ending with </s> among the best ${width} is finished, and the best ${width} others stay live`));
    const kept = s.beams.steps.reduce((n, k) => n + k.live.length + k.finished.length, 0);
    const ended = s.beams.steps.reduce((n, k) => n + k.finished.length, 0);
    assert.match(treeNote, new RegExp(`with α = ${alpha} .* So far: ${kept} hypotheses kept in ${s.beams.steps.length} steps, ${ended} finished\\.`));
    // the tables: every row's numbers are its own
    for (const row of await page.$$eval('#beams tbody tr', (rows) => rows.map((r) => ({ ...r.dataset, cells: [...r.cells].map((c) => c.textContent) })))) {
      assert.equal(row.cells[2], num(Number(row.logP)));
      assert.equal(row.cells[3], row.length);
      assert.equal(row.cells[4], num(Number(row.score)));
      assert.ok(Math.abs(Number(row.score) - Number(row.logP) / Number(row.length) ** alpha) < 1e-5);
    }
  }
  // a bad α: the field's own limits in the message box, no crash
  for (const [bad, said] of [['', /^length penalty α: enter from 0 to 2 \(the field is empty\)\.$/], ['3', /^length penalty α must be from 0 to 2, not 3\.$/]]) {
    await page.fill('#length-penalty', bad);
    await page.dispatchEvent('#length-penalty', 'change');
    const s = await state(page);
    assert.match(s.message?.text ?? '', said, `α = '${bad}'`);
  }
  await page.fill('#length-penalty', '1');
  await page.dispatchEvent('#length-penalty', 'change');
  assert.equal((await state(page)).message, null);
  assert.deepEqual(errors, []);
});

test('the tree: hovering a node gives its numbers; screenshot docs/beam-tree.png', async () => {
  const { page, errors } = session;
  await baseline(page);
  await page.click('label[for="strategy-beam"]');
  await page.fill('#beam-width', '4');
  await page.dispatchEvent('#beam-width', 'change');
  await typeWord(page, 'hello');
  await stepToEnd(page);
  const winner = page.locator('#beam-tree .beam-node.winner');
  await winner.scrollIntoViewIfNeeded();
  await winner.hover();
  const text = await tooltip(page);
  // the winner's numbers, as the decoder computed them (the snapshot's hypotheses at step 5)
  const won = (await state(page)).beams.steps[4].finished.find((h) => h.tokens.join(' ') === 'HH EH1 L OW0 </s>');
  const f3 = (x) => x.toFixed(3).replace(/^-/, '−');
  const tip = new RegExp(`^HH EH1 L OW0 </s>\\nstep 5 · finished: it chose </s> · the winner\\nscore = log p / length\\s*α\\s*= ${f3(won.logProb)} / 5\\s*1\\s*= ${f3(won.score)}`);
  assert.match(text, tip);
  assert.ok(Math.abs(won.score - won.logProb / 5) < 1e-6, `α = 1: the score is log p over the length: ${won.score} vs ${won.logProb} / 5`);
  assert.match(text, /end of sequence/);
  // a phoneme in the beams table explains itself
  await page.locator('#beams [data-phoneme="EH1"]').first().hover();
  assert.match(await tooltip(page), /EH1 vowel, as in bed/);
  // the picture: a longer word, its winner hovered
  await typeWord(page, 'quixotic');
  await stepToEnd(page);
  await winner.scrollIntoViewIfNeeded();
  await winner.hover();
  assert.match(await tooltip(page), /the winner/);
  // the card and the tooltip over it
  const clip = await page.evaluate(() => {
    const [a, b] = ['beam-tree', 'tooltip'].map((id) => document.getElementById(id).getBoundingClientRect());
    const x = Math.min(a.left, b.left) - 8;
    const y = Math.min(a.top, b.top) - 8;
    return { x, y, width: Math.max(a.right, b.right) + 8 - x, height: Math.max(a.bottom, b.bottom) + 8 - y };
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'beam-tree.png'), clip });  // (docs/beam-tree.png is a copy)
  await page.mouse.move(5, 5);
  assert.deepEqual(errors, []);
});
