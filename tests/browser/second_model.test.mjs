// The second shipped model, the decoder-only (GPT-style) G2P model, beside the encoder-decoder: offered in
// the picker and fetched only when chosen (over http and from file://), stepping "phoenix" as the CLI
// writes it, inventing a word from <s> alone (reproducibly for a seed), and the comparison of the two
// models' alignments, whose rows are the models' own (checked against runs made here in Node with
// web/stepwise.js). A screenshot of the comparison goes to docs/compare.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';
import { CLI, ROOT, SITE, fileUrl, nativeGenerate, openPage, outside, state, stepToEnd, typeWord, withBrowser } from './helpers.mjs';

const SECOND = 'g2p-cmudict-decoder-only.safetensors';
const SECOND_FILE = path.join(ROOT, 'weights', SECOND);
const FIRST_FILE = path.join(ROOT, 'weights', 'g2p-cmudict.safetensors');
const KNOWN = ['train', 'dev', 'test'].map((x) => path.join(ROOT, 'data', 'cmudict', `${x}.tsv`)).join(',');
const shipped = existsSync(path.join(SITE, SECOND)) && existsSync(SECOND_FILE);
const skip = shipped ? false : `${SECOND} is not in site/ (build the site with the decoder-only model in weights/)`;

// The model is committed: its absence is a failure, not a skip (the tests below would only report it as one).
test('the decoder-only model is in weights/ and in the built site', () => {
  assert.ok(shipped, `${SECOND} missing from weights/ or site/: build the site (node tools/build_site.mjs)`);
});

let browser;
let server;
withBrowser((b, s) => {
  browser = b;
  server = s;
});

async function chooseSecond(page) {
  const id = await page.$eval('#model-select', (s) => [...s.options].find((o) => /decoder-only/.test(o.textContent) && !/encoder/.test(o.textContent))?.value);
  assert.ok(id, 'the picker offers the decoder-only model');
  await page.selectOption('#model-select', id);
  await page.waitForFunction(() => window.stepwiseState.ready && window.stepwiseState.model?.name === 'g2p-cmudict-decoder-only.safetensors', null, { timeout: 30000 });
}

test('the picker offers both shipped models; the second is fetched only when chosen and steps "phoenix" as the CLI does', { skip }, async () => {
  const { page, requests, errors, context } = await openPage(browser, server.url, { width: 1440, height: 900 });
  const options = await page.$$eval('#model-select option', (o) => o.map((x) => x.textContent));
  assert.equal(options.length, 2, options.join(' | '));
  assert.match(options[0], /encoder–decoder/);
  assert.match(options[1], /decoder-only/);
  let s = await state(page);
  assert.equal(s.model.name, 'g2p-cmudict.safetensors');  // the default
  await page.waitForTimeout(300);
  assert.equal(requests.filter((u) => u.includes('decoder-only')).length, 0, 'nothing of the second model before it is chosen');
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
  await chooseSecond(page);
  assert.deepEqual(requests.filter((u) => u.includes('decoder-only')), [`${server.url}${SECOND}`]);
  await typeWord(page, 'phoenix');
  s = await stepToEnd(page);
  assert.equal(s.output, nativeGenerate(SECOND_FILE, ['phoenix']).get('phoenix'));
  assert.deepEqual(s.input, ['p', 'h', 'o', 'e', 'n', 'i', 'x', '<sep>']);
  assert.deepEqual(s.crossAttention, []);
  // the block diagram: no encoder, no cross-attention, and a sentence saying why; the other views work
  assert.equal(await page.$('#diagram [data-part="cross"]'), null);
  assert.equal(await page.$('#diagram [data-part="encoder"]'), null);
  assert.equal(await page.isHidden('#tab-cross'), true);
  assert.match(await page.$eval('.block-panel', (p) => p.textContent), /no encoder/i);
  assert.ok((await page.$$('#inside-head-body .cell')).length > 0, 'inside one head draws');
  assert.ok((await page.$$('#kv-matrices *')).length > 0, 'the KV cache draws');
  assert.ok((await page.$$('#residual-body *')).length > 0, 'the residual stream draws');
  // back to the first model: no second fetch
  await page.selectOption('#model-select', (await page.$eval('#model-select', (x) => x.options[0].value)));
  await page.selectOption('#model-select', (await page.$eval('#model-select', (x) => x.options[1].value)));
  await page.waitForFunction(() => window.stepwiseState.model?.name === 'g2p-cmudict-decoder-only.safetensors');
  assert.equal(requests.filter((u) => u.includes('decoder-only')).length, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('invent: from <s> alone, letters, <sep>, phonemes, </s>, the same for the same seed; then the encoder-decoder reads it', { skip }, async () => {
  const { page, errors, requests, context } = await openPage(browser, server.url);
  await chooseSecond(page);
  assert.equal(requests.filter((u) => u.endsWith('/headwords.js')).length, 0, 'no headwords before an invention');
  const invent = async (seed) => {
    await page.fill('#invent-seed', String(seed));
    await page.click('#invent-button');
    await page.click('#play');  // pause, then step by step
    let s = await state(page);
    if (s.playing) await page.click('#play');
    s = await stepToEnd(page);
    return s;
  };
  // The engine samples every token from <s> alone, so the page writes what `stepwise invent` writes for a
  // seed: the first 20 seeds as the CLI writes them ("word<TAB>phonemes[<TAB>(malformed)]"), each also
  // marked "(a headword)" when CMUdict has it. A malformed sample is said to be no word; a well-formed one,
  // new or not (headwords.js, read on the first invention).
  const cli = execFileSync(CLI, ['invent', '--model', SECOND_FILE, '--count', '20', '--seed', '0', '--known', KNOWN],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trimEnd().split('\n').map((line, seed) => {
      const fields = line.split('\t');
      const headword = fields.at(-1) === '(a headword)';
      return { seed, fields: headword ? fields.slice(0, -1) : fields, headword };
    });
  const good = cli.find((c) => c.fields.length === 2 && !c.headword);
  assert.ok(good, 'one of the first 20 seeds invents a well-formed word');
  const first = await invent(good.seed);
  assert.ok(first.invented, 'an invention');
  assert.equal(first.queries[0], '<s>');
  assert.equal(first.promptRows, 0);
  const tokens = first.invented.tokens;
  const sep = tokens.indexOf('<sep>');
  assert.ok(sep > 0, tokens.join(' '));
  assert.ok(tokens.slice(0, sep).every((t) => [...t].length === 1 && t === t.toLowerCase()), tokens.join(' '));
  assert.equal(tokens.at(-1), '</s>');
  assert.equal(first.invented.wellFormed, true, tokens.join(' '));
  assert.equal(first.invented.word, tokens.slice(0, sep).join(''));
  assert.equal(first.invented.seed, good.seed);
  assert.deepEqual([first.invented.word, first.invented.phonemes], good.fields);
  await page.waitForFunction(() => window.stepwiseState.invented?.headword !== undefined);  // headwords.js read
  assert.equal((await state(page)).invented.headword, null);  // (the CLI marks none of "good"'s word)
  assert.match(await page.textContent('#invent-result'), new RegExp(`^invented “${first.invented.word}” /${first.invented.phonemes}/ \\(seed ${good.seed}\\): no CMUdict headword$`));
  assert.equal(first.selfAttention[0][0].length, tokens.length);  // a row for every token written
  const again = await invent(good.seed);
  assert.deepEqual(again.invented.tokens, tokens);
  // every seed as the CLI writes it, a malformed one (if one of the 20 is) said to be no word
  for (const c of [cli.find((x) => x.seed !== good.seed && x.fields.length === 2), cli.find((x) => x.fields.length === 3)].filter(Boolean)) {
    const other = await invent(c.seed);
    assert.equal(other.invented.wellFormed, c.fields.length === 2, other.invented.tokens.join(' '));
    assert.deepEqual([other.invented.word, other.invented.phonemes], c.fields.slice(0, 2));
    if (c.fields.length === 3) assert.match(await page.textContent('#invent-result'), /not a word this time/);
  }
  // a real word: named as one, with the split that holds it (what the page says of a train word, a dev or
  // test word: web/panels/invent.js)
  const real = cli.find((c) => c.fields.length === 2 && c.headword);
  assert.ok(real, 'one of the first 20 seeds writes a CMUdict headword (about one in five does)');
  const split = ['train', 'dev', 'test'].find((x) => readFileSync(path.join(ROOT, 'data', 'cmudict', `${x}.tsv`), 'utf8').includes(`\n${real.fields[0]}\t`));
  const written = await invent(real.seed);
  assert.equal(written.invented.headword, split);
  const said = await page.textContent('#invent-result');
  assert.match(said, new RegExp(`^wrote “${real.fields[0]}” /${real.fields[1]}/ \\(seed ${real.seed}\\): `));
  assert.doesNotMatch(said, /invented/);
  assert.match(said, split === 'train' ? /a CMUdict headword from the training split, which the model saw$/ : new RegExp(`a real word \\(CMUdict's ${split} split\\) that the model never saw`));
  assert.equal(requests.filter((u) => u.endsWith('/headwords.js')).length, 1, 'headwords.js read once');
  await invent(good.seed);
  await page.click('#invent-pronounce');
  await page.waitForFunction((w) => window.stepwiseState.model?.name === 'g2p-cmudict.safetensors' && window.stepwiseState.word === w, first.invented.word);
  const s = await stepToEnd(page);
  assert.equal(s.output, nativeGenerate(FIRST_FILE, [first.invented.word]).get(first.invented.word));
  assert.deepEqual(errors, []);
  await context.close();
});

test('invent without the headword list (a host that refused headwords.js): the page does not call the word new', { skip }, async () => {
  const { page, context } = await openPage(browser, server.url);
  await page.route('**/headwords.js', (route) => route.abort());
  await chooseSecond(page);
  await page.fill('#invent-seed', '1');
  await page.click('#invent-button');
  await page.waitForFunction(() => window.stepwiseState.done && /could not be read/.test(document.querySelector('#invent-result').textContent), null, { timeout: 30000 });
  const said = await page.textContent('#invent-result');
  assert.match(said, /^wrote “[^”]+” \/[^/]+\/ \(seed 1\) \(the headword list could not be read, so whether it is new is not known\)$/);
  assert.equal((await state(page)).invented.headword, undefined);
  await context.close();
});

// What the page says while the decoder-only model is in use: true of its one sequence (a prompt filled in
// one causal pass, or none when it invents), of its training, and of the model named in the footer.
test('the decoder-only model: the texts say what its one sequence, its KV cache and its training are', { skip }, async () => {
  const { page, errors, context } = await openPage(browser, server.url, { width: 1280, height: 900 });
  const text = (selector) => page.$eval(selector, (n) => n.textContent);
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
  await chooseSecond(page);
  await typeWord(page, 'phoenix');
  await page.click('#step');
  let s = await state(page);
  // the footer names the model in use
  await page.waitForFunction(() => /decoder-only/.test(document.querySelector('#engine-info').textContent));
  assert.match(await text('#engine-info'), new RegExp(`model g2p-cmudict-decoder-only\\.safetensors, ${s.model.parameters.toLocaleString('en')} parameters\\.$`));
  // step 1 fills <s> and the prompt at once: 9 rows
  assert.equal(s.queries.length, 9);
  await page.click('#tab-mask');
  assert.match(await text('#view-explain'), /The first step fills the rows and columns of <s> and the prompt at once/);
  await page.$eval('#kv-cache', (card) => card.scrollIntoView());
  await page.waitForFunction(() => /filled 9 rows/.test(document.querySelector('#kv-note').textContent));
  assert.doesNotMatch(await text('#kv-note'), /from the encoder|computed once/);
  assert.match(await text('#kv-note'), /no cross-attention cache/);
  await page.$eval('#residual-panel', (card) => card.scrollIntoView());
  await page.click('#stream-diagram [data-part="final"]');
  await page.waitForFunction(() => /TransformerEncoder\(norm=/.test(document.querySelector('#residual-note').textContent));
  await page.waitForFunction(() => /nn\.TransformerEncoder applies `norm`/.test(document.querySelector('#code-torch').textContent));
  assert.doesNotMatch(await text('#code-torch'), /TransformerDecoder/);
  assert.equal(await text('#output-label'), 'Sequence');
  assert.match(await text('#phoneme-note'), /^After <sep>: ARPAbet phonemes/);

  // inventing: the decoding settings are idle and say so; the scrubber ends where this invention ends
  const inventToEnd = async (seed) => {
    await page.fill('#invent-seed', String(seed));
    await page.click('#invent-button');
    await page.waitForFunction(() => window.stepwiseState.done, null, { timeout: 30000 });
    return state(page);
  };
  const long = await inventToEnd(6);
  const short = await inventToEnd(178);
  assert.ok(long.steps > short.steps, `${long.steps} > ${short.steps}`);
  assert.equal(await text('#scrub-value'), `${short.steps} / ${short.steps}`);
  assert.equal(await page.isVisible('#invent-settings-note'), true);
  assert.deepEqual(await page.$$eval('input[name="strategy"], input[name="mode"]', (inputs) => inputs.map((i) => i.disabled)), [true, true, true, true, true]);
  assert.equal(await page.isVisible('#sample-params'), false);
  assert.match(await text('#letters-caption'), /^none: inventing/);
  await page.click('#back');
  assert.match(await text('#invent-result'), new RegExp(`^so far “${short.invented.word.slice(0, -1)}`));
  await page.click('#reset');
  assert.match(await text('#invent-result'), /Step → or Play writes a word/);

  // teacher forcing: this model was trained without label smoothing (its card), and the labels say so
  await typeWord(page, 'phoenix');
  assert.equal(await page.isVisible('#invent-settings-note'), false);
  await page.click('label[for="mode-teacher"]');
  await page.waitForFunction(() => window.stepwiseState.mode === 'teacher');
  await page.$eval('#training', (card) => card.scrollIntoView());
  await page.waitForFunction(() => document.querySelector('.loss-total[data-name="smoothed"]'));
  assert.match(await text('.loss-total[data-name="cross-entropy"]'), /what this model was trained to minimise \(tools\/train_g2p\.py --label-smoothing 0\)/);
  assert.match(await text('.loss-total[data-name="smoothed"]'), /this model was trained without it/);
  await page.click('#tab-self');
  assert.match(await text('#view-explain'), /^One sequence: <s>, the prompt, then the reference fed\./);
  await page.click('label[for="mode-steps"]');
  assert.deepEqual(errors, []);
  await context.close();
});

/** A page at this size comparing the two models on "phoenix", once both models' rows are in. */
async function comparing(viewport) {
  const opened = await openPage(browser, server.url, viewport);
  await typeWord(opened.page, 'phoenix');
  await opened.page.click('#alignment-run');
  await opened.page.waitForFunction(() => window.stepwiseState.compare?.encoderDecoder, null, { timeout: 30000 });
  return opened;
}

test('the comparison fits a phone\'s width', { skip }, async () => {
  const { page, errors, context } = await comparing({ width: 390, height: 844 });
  await page.$eval('#alignment', (n) => n.scrollIntoView());
  const widths = await page.evaluate(() => ({ page: document.documentElement.clientWidth, grid: document.querySelector('#alignment-grid').getBoundingClientRect().right }));
  assert.ok(widths.grid <= widths.page, `the grid ends at ${widths.grid} px, the page is ${widths.page} px wide`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('compare: the encoder-decoder\'s cross-attention beside the decoder-only self-attention over the letters, rows from each model\'s run', { skip }, async () => {
  const { page, errors, context } = await comparing({ width: 1440, height: 900 });
  const { compare } = await state(page);
  const ed = await Stepwise.load(readFileSync(FIRST_FILE));
  const dec = await Stepwise.load(readFileSync(SECOND_FILE));
  const letters = [...'phoenix'];
  // the encoder-decoder: row k = decoder position k, its cross-attention over the 7 letters
  const edRun = ed.start('phoenix');
  const edRows = [];
  while (!edRun.done) {
    const r = edRun.step();
    if (r.id !== ed.eos) edRows.push(r.crossAttention.map((l) => l.map((x) => Array.from(x))));
  }
  // the decoder-only model: row k = position 8 + k (<s>, 7 letters, <sep>), its self-attention at 1..7
  const decRun = dec.start('phoenix');
  const decRows = [];
  while (!decRun.done) {
    const r = decRun.step();
    if (r.id !== dec.eos) decRows.push(r.selfAttention.map((l) => l.map((x) => Array.from(x).slice(1, 8))));
  }
  for (const [side, rows, run, model] of [[compare.encoderDecoder, edRows, edRun, ed], [compare.decoderOnly, decRows, decRun, dec]]) {
    assert.deepEqual(side.letters, letters);
    assert.equal(side.phonemes.join(' '), run.outputText());
    assert.equal(side.rows.length, model.config.n_decoder_layers);
    for (let l = 0; l < side.rows.length; l++) {
      for (let h = 0; h < side.rows[l].length; h++) {
        assert.equal(side.rows[l][h].length, side.phonemes.length, 'rows: the phonemes');
        side.rows[l][h].forEach((row, k) => {
          assert.equal(row.length, letters.length, 'columns: the letters');
          row.forEach((w, j) => assert.ok(Math.abs(w - rows[k][l][h][j]) < 1e-6, `${side.model} L${l} H${h} [${k}][${j}]: ${w} vs ${rows[k][l][h][j]}`));
        });
      }
    }
  }
  edRun.dispose();
  decRun.dispose();
  // both drawn, with the shapes: phonemes × letters
  for (const key of ['encoderDecoder', 'decoderOnly']) {
    const cells = await page.$$eval(`.align-map[data-side="${key}"] .align-cell`, (c) => c.map((x) => Number(x.dataset.value)));
    assert.equal(cells.length, compare[key].phonemes.length * letters.length);
  }
  // each side opens on its layer's mean: the encoder-decoder on its last layer, the decoder-only model on
  // the layer whose mean over heads puts most attention on the letters (computed here from the rows)
  const share = (l) => decRows.reduce((sum, row) => sum + row[l].reduce((a, head) => a + head.reduce((x, y) => x + y, 0), 0), 0);
  const reading = Array.from({ length: dec.config.n_decoder_layers }, (_, l) => l).reduce((best, l) => (share(l) > share(best) ? l : best), 0);
  assert.equal(await page.inputValue('select[data-side="encoderDecoder"]'), `${ed.config.n_decoder_layers - 1} mean`);
  assert.equal(await page.inputValue('select[data-side="decoderOnly"]'), `${reading} mean`);
  // one head chosen on the decoder-only side: its rows drawn
  await page.selectOption('select[data-side="decoderOnly"]', '3 2');
  const drawn = await page.$$eval('.align-map[data-side="decoderOnly"] .align-cell', (c) => c.map((x) => Number(x.dataset.value)));
  assert.deepEqual(drawn, compare.decoderOnly.rows[3][2].flat());
  await page.selectOption('select[data-side="decoderOnly"]', `${reading} mean`);  // back to the opening view
  await page.$eval('#alignment', (x) => x.scrollIntoView());
  await page.screenshot({ path: path.join(ROOT, 'docs', 'compare.png') });
  assert.deepEqual(errors, []);
  ed.dispose();
  dec.dispose();
  await context.close();
});

test('from file://: the second model loads when chosen (its script injected then) and steps', { skip }, async () => {
  const { page, requests, errors, context } = await openPage(browser, fileUrl());
  const folder = `${pathToFileURL(SITE).href}/`;
  assert.equal(requests.filter((u) => u.includes('decoder-only')).length, 0);
  await chooseSecond(page);
  assert.ok(requests.includes(`${folder}g2p-cmudict-decoder-only.js`), requests.join('\n'));
  await typeWord(page, 'knight');
  const s = await stepToEnd(page);
  assert.equal(s.output, nativeGenerate(SECOND_FILE, ['knight']).get('knight'));
  // inventing reads the headwords there too (headwords.js, a classic script)
  await page.fill('#invent-seed', '2');
  await page.click('#invent-button');
  await page.waitForFunction(() => window.stepwiseState.invented?.headword !== undefined, null, { timeout: 30000 });
  assert.ok(requests.includes(`${folder}headwords.js`), requests.join('\n'));
  assert.doesNotMatch(await page.textContent('#invent-result'), /could not be read/);
  assert.deepEqual(outside(requests, folder), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a link to the second model fetches it and restores the view (http and file://); Back and the scrubber work on it', { skip }, async () => {
  for (const base of [server.url, fileUrl()]) {
    const hash = `#model=${SECOND}&word=phoenix&mode=steps&strategy=greedy&step=3&view=self&self=4.2`;
    const { page, errors, context } = await openPage(browser, `${base}${hash}`);
    await page.waitForFunction(() => window.stepwiseState.model?.name === 'g2p-cmudict-decoder-only.safetensors' && window.stepwiseState.steps === 3, null, { timeout: 30000 });
    let s = await state(page);
    assert.equal(s.message, null, s.message?.text);
    assert.equal(s.word, 'phoenix');
    assert.equal(s.view, 'self');
    assert.deepEqual(s.selection, { layer: 3, head: 1 });
    const tokens = nativeGenerate(SECOND_FILE, ['phoenix']).get('phoenix').split(' ');
    assert.deepEqual(s.produced.slice(s.promptRows), tokens.slice(0, 3));
    const at3 = s.selfAttention;
    await page.click('#back');
    s = await state(page);
    assert.equal(s.steps, 2);
    await page.fill('#scrub', '3');
    await page.dispatchEvent('#scrub', 'input');
    s = await state(page);
    assert.equal(s.steps, 3);
    assert.deepEqual(s.selfAttention, at3);  // step 3 again, as it was the first time
    assert.deepEqual(errors, []);
    await context.close();
  }
});
