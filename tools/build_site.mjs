#!/usr/bin/env node
// Builds the static site into site/: one folder that works from any static host, under any sub-path,
// and from file:// with no server and no network.
//
//   node tools/build_site.mjs [--model weights/g2p-cmudict.safetensors]
//                             [--second-model weights/g2p-cmudict-decoder-only.safetensors] [--out site]
//                             [--no-minify]   (a readable app.js, for profiling the page)
//
// Chromium refuses ES modules and fetch() on file:// pages, so everything is a classic script:
//   app.js    the page (web/app.js and its modules, web/stepwise.js and the Emscripten module) bundled
//             by esbuild into one IIFE
//   stepwise.wasm  the engine, fetched by the page over http
//   engine.js the same bytes, base64, assigned to a global: what the page reads from file://
//   MODEL.safetensors  the built-in model, fetched by the page over http (named in index.html)
//   MODEL.safetensors.gz  the same, gzip -9: what the page fetches over http and inflates
//             (DecompressionStream): static hosts compress text but send binary files as they are
//   model.js  the same bytes, base64, assigned to a global: what the page reads from file://
//   SECOND.safetensors, SECOND.js  the second shipped model (the decoder-only G2P model) and the same
//             bytes as a classic script: named in index.html, fetched (or, on file://, the script
//             injected) only when the learner chooses it, so the default page transfers no more
//   words.js  the CMUdict test split (held-out words and their pronunciations) for "surprise me" and the
//             dictionary line, read once the page is interactive (web/assets.js testWords)
//   headwords.js  every CMUdict headword of the three splits, front-coded, read only when a decoder-only
//             model invents a word, to say whether it is new (web/assets.js headwords)
//   boot.js   starts compiling the engine and getting the model first thing (web/boot.js, copied as is)
//   engine_source.js  the engine's C++ lines for each box of the decoder diagram, from the
//             `// [box: NAME]` regions of src/engine/transformer.cpp (tools/engine_source.mjs)
//   index.html, style.css, favicon.svg  copied from web/
// Needs build-wasm/stepwise-wasm.js (bash tools/build_wasm.sh). Until the trained model exists it falls
// back to a small fixture model, with a warning.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';

import { currentRegions, engineSourceScript } from './engine_source.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_MODEL = 'weights/g2p-cmudict.safetensors';
const SECOND_MODEL = 'weights/g2p-cmudict-decoder-only.safetensors';
const FALLBACK_MODEL = 'tests/fixtures/postnorm_relu_sinusoidal.safetensors';
const WASM_MODULE = 'build-wasm/stepwise-wasm.js';
const TEST_SPLIT = 'data/cmudict/test.tsv';
const SPLITS = ['train', 'dev', 'test'];  // data/cmudict/SPLIT.tsv, as tools/g2p_data.py writes them

function fail(message) {
  console.error(`build_site: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { model: null, secondModel: null, out: 'site', minify: true };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i] ?? fail(`${key} needs a value`);
    if (key === '--model') options.model = value();
    else if (key === '--second-model') options.secondModel = value();
    else if (key === '--out') options.out = value();
    else if (key === '--no-minify') options.minify = false;  // readable app.js, for profiling the page
    else if (key === '-h' || key === '--help') {
      console.log('usage: node tools/build_site.mjs [--model FILE.safetensors] [--second-model FILE.safetensors] [--out site] [--no-minify]');
      process.exit(0);
    } else fail(`unknown argument '${argv[i]}' (try --help)`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const at = (p) => path.resolve(ROOT, p);

// The model: the one asked for, else the shipped G2P model, else (while it is still training) a fixture.
let modelPath = options.model ? path.resolve(options.model) : at(DEFAULT_MODEL);
if (!existsSync(modelPath)) {
  if (options.model) fail(`model file ${options.model} not found`);
  console.warn(`build_site: warning: ${DEFAULT_MODEL} not found; building with the fixture model ${FALLBACK_MODEL} (random weights)`);
  modelPath = at(FALLBACK_MODEL);
}
// The second model, offered in the picker and loaded only when chosen: the one asked for, else the shipped
// decoder-only model when it exists, else none (the picker then offers only the first).
const secondPath = options.secondModel ? path.resolve(options.secondModel) : at(SECOND_MODEL);
if (options.secondModel && !existsSync(secondPath)) fail(`model file ${options.secondModel} not found`);
const hasSecond = existsSync(secondPath) && secondPath !== modelPath;
if (!existsSync(at(WASM_MODULE))) fail(`${WASM_MODULE} not found; build it first: bash tools/build_wasm.sh`);

// The held-out words: written by tools/g2p_data.py (the one implementation of the split) when missing.
if (!existsSync(at(TEST_SPLIT))) {
  try {
    execFileSync('python3', [at('tools/g2p_data.py'), '--out', at(path.dirname(TEST_SPLIT))], { stdio: 'inherit' });
  } catch (error) {
    console.warn(`build_site: warning: could not write ${TEST_SPLIT} (${error.message}); "surprise me" will make up words`);
  }
}

const out = path.resolve(options.out);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: ['web/app.js'],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2022'],
  // The Emscripten module's Node.js branch requires these; it never runs in a browser.
  external: ['fs', 'path'],
  minify: options.minify,
  legalComments: 'none',
  logLevel: 'warning',
});

for (const file of ['boot.js', 'style.css', 'favicon.svg']) copyFileSync(at(`web/${file}`), path.join(out, file));

// A JS string literal for any text: JSON.stringify, with the two line separators escaped (JSON allows
// them raw, older JS parsers did not).
const literal = (text) => JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

// The engine: Emscripten's -sSINGLE_FILE module embeds the .wasm as a base64 data: URL. Over http the
// page fetches it as a binary file instead (a quarter smaller, compresses better, compiles without
// decoding), so it moves out of app.js: into stepwise.wasm, and into engine.js (base64 again, a classic
// script) for file://. web/boot.js compiles it (over http while it downloads) and the page hands the
// compiled module to the wrapper (Stepwise.module({ wasmModule })).
const WASM_FILE = 'stepwise.wasm';
const bundle = readFileSync(path.join(out, 'app.js'), 'utf8');
const embedded = [...bundle.matchAll(/"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/g)];
if (embedded.length !== 1) fail(`expected one embedded .wasm in the bundled ${WASM_MODULE}, found ${embedded.length}`);
const wasmBase64 = embedded[0][1];
writeFileSync(path.join(out, 'app.js'), bundle.replace(embedded[0][0], literal(WASM_FILE)));
writeFileSync(path.join(out, WASM_FILE), Buffer.from(wasmBase64, 'base64'));
writeFileSync(
  path.join(out, 'engine.js'),
  `// ${WASM_FILE}, base64 (a classic script so that file:// pages can read it)\n` +
    `globalThis.stepwiseEngineWasm = ${literal(wasmBase64)};\n`,
);

const modelBytes = readFileSync(modelPath);
const modelName = path.basename(modelPath);
if (!/^[\w.-]+\.safetensors$/.test(modelName)) fail(`model file name '${modelName}': use letters, digits, '.', '-', '_' and .safetensors`);
// The page fetches the binary over http and reads model.js (the same bytes) on file://.
copyFileSync(modelPath, path.join(out, modelName));
const modelGzip = `${modelName}.gz`;
writeFileSync(path.join(out, modelGzip), zlib.gzipSync(modelBytes, { level: 9 }));
const html = readFileSync(at('web/index.html'), 'utf8');
const secondName = hasSecond ? path.basename(secondPath) : '';
if (hasSecond && !/^[\w.-]+\.safetensors$/.test(secondName)) fail(`model file name '${secondName}': use letters, digits, '.', '-', '_' and .safetensors`);
const markers = { 'stepwise-wasm': WASM_FILE, 'stepwise-model': modelName, 'stepwise-model-gzip': modelGzip, 'stepwise-second-model': secondName };
let page = html;
for (const [name, value] of Object.entries(markers)) {
  const marker = `<meta name="${name}" content="">`;
  if (!page.includes(marker)) fail(`web/index.html has no ${marker}`);
  page = page.replace(marker, `<meta name="${name}" content="${value}">`);
}
writeFileSync(path.join(out, 'index.html'), page);
writeFileSync(
  path.join(out, 'model.js'),
  `// ${modelName}, ${modelBytes.length} bytes, base64 (a classic script so that file:// pages can read it)\n` +
    `globalThis.stepwiseBuiltinModel = { file: ${literal(modelName)}, base64: ${literal(modelBytes.toString('base64'))} };\n`,
);

// The second model: its file for http, and a classic script for file:// that the page injects only when
// the learner chooses the model (web/assets.js shippedModel): it adds the bytes to a global, by file name.
if (hasSecond) {
  const secondBytes = readFileSync(secondPath);
  copyFileSync(secondPath, path.join(out, secondName));
  writeFileSync(
    path.join(out, secondName.replace(/\.safetensors$/, '.js')),
    `// ${secondName}, ${secondBytes.length} bytes, base64 (a classic script so that file:// pages can read it)\n` +
      `(globalThis.stepwiseShippedModels ??= {})[${literal(secondName)}] = ${literal(secondBytes.toString('base64'))};\n`,
  );
}

// word<TAB>pron|pron per line, one line per word, in the order of the split file.
let wordCount = 0;
let words = '';
if (existsSync(at(TEST_SPLIT))) {
  const byWord = new Map();
  for (const line of readFileSync(at(TEST_SPLIT), 'utf8').split('\n')) {
    const [word, pron] = line.split('\t');
    if (!word || !pron) continue;
    if (!byWord.has(word)) byWord.set(word, []);
    byWord.get(word).push(pron);
  }
  words = [...byWord].map(([word, prons]) => `${word}\t${prons.join('|')}`).join('\n');
  wordCount = byWord.size;
}
writeFileSync(
  path.join(out, 'words.js'),
  `// CMUdict test split (${wordCount} held-out words): word<TAB>pronunciation|pronunciation...\n` +
    `globalThis.stepwiseTestWords = ${literal(words)};\n`,
);

// Each split's headwords, sorted and front-coded, separated by spaces: each is the number of leading
// characters it shares with the word before (one digit, 0-9; headwords hold no digits) and the rest of the
// word. ~590 kB, ~260 kB as a static host gzips it.
const frontCoded = (sorted) => {
  let previous = '';
  return sorted.map((word) => {
    let shared = 0;
    while (shared < 9 && shared < previous.length && word[shared] === previous[shared]) shared++;
    previous = word;
    return `${shared}${word.slice(shared)}`;
  }).join(' ');
};
// Written only with all three splits: a partial list would call real words new.
const headwords = {};
for (const split of SPLITS) {
  const file = at(`data/cmudict/${split}.tsv`);
  if (!existsSync(file)) {
    console.warn(`build_site: warning: data/cmudict/${split}.tsv not found; no headwords.js: the page will not say whether an invented word is new`);
    break;
  }
  const words = new Set(readFileSync(file, 'utf8').split('\n').map((line) => line.split('\t')[0]).filter(Boolean));
  if ([...words].some((w) => /[0-9\s]/.test(w))) fail(`${split}.tsv has a headword with a digit or a space: the front coding needs none`);
  headwords[split] = frontCoded([...words].sort());
}
if (Object.keys(headwords).length === SPLITS.length) writeFileSync(
  path.join(out, 'headwords.js'),
  `// CMUdict headwords by split (${SPLITS.join(', ')}), sorted, front-coded: for each word,\n` +
    `// the count (one digit) of leading characters shared with the word before, then the rest; spaces between\n` +
    `globalThis.stepwiseHeadwords = ${JSON.stringify(headwords)};\n`,
);

const regions = currentRegions();
writeFileSync(path.join(out, 'engine_source.js'), engineSourceScript(regions));

const size = (f) => `${(statSync(path.join(out, f)).size / 1024).toFixed(0)} KiB`;
console.log(`build_site: ${path.relative(process.cwd(), out) || '.'}/ with model ${path.relative(ROOT, modelPath)}` +
  `${hasSecond ? ` and, loaded when chosen, ${path.relative(ROOT, secondPath)}` : ''} ` +
  `(app.js ${size('app.js')}, stepwise.wasm ${size(WASM_FILE)}, model.js ${size('model.js')}, words.js ${size('words.js')}, ` +
  `${existsSync(path.join(out, 'headwords.js')) ? `headwords.js ${size('headwords.js')}, ` : ''}${wordCount} test words, ` +
  `${Object.keys(regions.regions).length} engine regions)`);
