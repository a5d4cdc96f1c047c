#!/usr/bin/env node
// The speed benchmark: Stepwise natively, in WebAssembly under Node and in headless Chromium, against
// ONNX Runtime Web and PyTorch eager, on the same model and the same words, in one run.
// tools/bench/README.md explains what is measured and how.
//
//   node tools/bench/run.mjs [--model weights/g2p-cmudict.safetensors] [--quick] [--rounds N]
//                            [--out build/bench] [--no-build] [--only native,node,chromium,ort,torch,cold,paint]
//                            [--baseline REV | --no-baseline] [--base-dtype Q8|F16]
//
// Prints a markdown table and writes build/bench/results.json and results.md. --quick is a tiny
// setting (a few words, a small stand-in for the base-shaped model, one round) that only checks that
// every part still runs. --only runs only those engines (native always, but for `--only paint`, the page's
// click-to-paint measurement alone: tools/bench/paint.mjs). --baseline: the native
// stepwise_bench of git revision REV (default 9fe395b^, the release before the step probe), built in a
// worktree under build/bench-baseline/ and run in turns with this one; skipped in --quick unless given.
// --base-dtype: how the base-shaped model's weights are stored (default Q8, as the shipped models: Stepwise
// keeps them int8; F16: widened to float32 at load, the benchmark before int8 kernels).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { mergeRuns, measurePaint, paintMet, paintTable, PAINT_WORDS, SCENARIOS } from './paint.mjs';
import { serveFiles } from './server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const at = (...p) => path.resolve(ROOT, ...p);
const PYTHON = '/usr/bin/python3';  // Debian's, the one with torch (PLATFORM.md)
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

// ------------------------------------------------------------------------------------------- settings

// Engine groups for --only: `native` is stepwise_bench (with the baseline's, and the -march=native
// ceiling), the reference every other engine is checked against, so it always runs.
// `paint` is the page's click to next paint (paint.mjs); asked for alone, it runs without the engines.
const GROUPS = ['native', 'node', 'chromium', 'ort', 'torch', 'cold', 'paint'];
// The previous release for --baseline: the commit before the step probe (9fe395b) landed.
const DEFAULT_BASELINE = '9fe395b^';

function parseArgs(argv) {
  const args = { model: 'weights/g2p-cmudict.safetensors', quick: false, rounds: null, out: 'build/bench', build: true,
    only: new Set(GROUPS), baseline: undefined, baseDtype: 'Q8' };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i] ?? fail(`${key} needs a value`);
    if (key === '--model') args.model = value();
    else if (key === '--quick') args.quick = true;
    else if (key === '--rounds') args.rounds = Number(value());
    else if (key === '--out') args.out = value();
    else if (key === '--no-build') args.build = false;
    else if (key === '--only') {
      const names = value().split(',').map((x) => x.trim()).filter(Boolean);
      const unknown = names.filter((x) => !GROUPS.includes(x));
      if (unknown.length) fail(`--only: unknown engine group '${unknown[0]}' (of ${GROUPS.join(', ')})`);
      args.only = new Set(names.every((x) => x === 'paint') ? names : ['native', ...names]);
    } else if (key === '--baseline') args.baseline = value();
    else if (key === '--base-dtype') {
      args.baseDtype = value();
      if (!['Q8', 'F16'].includes(args.baseDtype)) fail(`--base-dtype: Q8 or F16, not '${args.baseDtype}'`);
    }
    else if (key === '--no-baseline') args.baseline = null;
    else if (key === '-h' || key === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//')))
        .map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else fail(`unknown argument '${argv[i]}' (try --help)`);
  }
  return args;
}

// Per model: how many rounds (each engine once per round; engines take turns, so that a change in the
// machine's load is shared out), words, samples per measurement, the length of each timed batch,
// which positions. The G2P model's outputs end with </s>; the random base-shaped model's rarely do,
// so its generations are capped.
const FULL = {
  small: { rounds: 5, words: 30, samples: 3, minSeconds: 0.03, positions: [1, 2, 4, 8, 16, 32], maxLength: 0,
    matvecShapes: [[1024, 256], [2048, 512]], eigen: ['positions', 'greedy'], eigenPositions: [1, 8] },
  large: { rounds: 2, words: 2, samples: 3, minSeconds: 0.03, positions: [1, 2, 4, 8, 16, 32, 64, 128, 256], maxLength: 12,
    matvecShapes: [], eigen: ['positions'], eigenPositions: [1, 64] },
  torchThreads: [1, 2], otherThreadsWords: 5,
  coldRuns: 5, warmupSeconds: 0.5,
  paint: { words: PAINT_WORDS, clicks: 20, rounds: 1, scenarios: ['click', 'key'] },
};
const QUICK = {
  small: { rounds: 1, words: 3, samples: 2, minSeconds: 0.002, positions: [1, 2, 4], maxLength: 0, matvecShapes: [],
    eigen: ['positions', 'greedy'], eigenPositions: [1] },
  large: { rounds: 1, words: 2, samples: 2, minSeconds: 0.002, positions: [1, 8], maxLength: 4, matvecShapes: [],
    eigen: ['positions'], eigenPositions: [1] },
  torchThreads: [1], otherThreadsWords: 0,
  coldRuns: 1, warmupSeconds: 0.02,
  paint: { words: ['xylophone'], clicks: 3, rounds: 1, scenarios: ['click', 'key'] },
};

// ---------------------------------------------------------------------------------------------- utils

const started = Date.now();
function log(message) {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}
function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
function run(command, args, { capture = false, env } = {}) {
  return execFileSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
  });
}
const runJson = (command, args) => JSON.parse(run(command, args, { capture: true }));
const newer = (file, ...than) => existsSync(file) && than.every((t) => statSync(file).mtimeMs >= statSync(t).mtimeMs);

// The model's configuration, from the safetensors header (__metadata__.stepwise).
function modelConfig(file) {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')).__metadata__.stepwise);
}

// Words every model can read: the committed list, filtered to the model's source vocabulary.
function wordsFor(config, count) {
  const vocab = new Set(config.source_vocab.tokens);
  const list = readFileSync(at('tools/bench/words.txt'), 'utf8').split('\n').filter((w) => w && !w.startsWith('#'));
  const usable = list.filter((w) => w.length < config.max_source_len && [...w].every((ch) => vocab.has(ch)));
  if (usable.length < count) fail(`only ${usable.length} of tools/bench/words.txt fit the model's vocabulary`);
  return usable.slice(0, count);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length;
  return k === 0 ? NaN : k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
};
// Over rounds: the median of the rounds' medians, the extremes of their samples.
function across(stats) {
  const list = stats.filter(Boolean);
  if (!list.length) return null;
  return { median: median(list.map((s) => s.median)), min: Math.min(...list.map((s) => s.min)),
    max: Math.max(...list.map((s) => s.max)), rounds: list.length };
}
const get = (object, keys) => keys.split('.').reduce((o, k) => (o == null ? undefined : o[k]), object);

// ------------------------------------------------------------------------------------------ machine

function machine() {
  const lscpu = (() => {
    try {
      return run('lscpu', [], { capture: true });
    } catch {
      return '';
    }
  })();
  const field = (name) => lscpu.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim();
  const version = (command, args, pattern) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).match(pattern)?.[1] ?? null;
    } catch {
      return null;
    }
  };
  return {
    cpu: field('Model name') ?? os.cpus()[0]?.model,
    cores: os.cpus().length,
    l2: field('L2 cache'),
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    load_average_start: os.loadavg(),
    node: process.version,
    chromium: version(CHROMIUM, ['--version'], /Chromium ([\d.]+)/),
    gcc: version('g++', ['--version'], /(\d+\.\d+\.\d+)/),
    emscripten: version('emcc', ['--version'], /emcc .*?(\d+\.\d+\.\d+)/),
    onnxruntime_web: JSON.parse(readFileSync(at('node_modules/onnxruntime-web/package.json'), 'utf8')).version,
  };
}

// ---------------------------------------------------------------------------------------- preparing

function build(only) {
  if (!only.has('native')) {  // --only paint: the page needs only the WebAssembly build
    log('WebAssembly build (build-wasm/)');
    run('bash', ['tools/build_wasm.sh']);
    return;
  }
  log('native build (build/): stepwise_bench, stepwise_matvec_ceiling');
  run('cmake', ['-S', '.', '-B', 'build', '-DCMAKE_BUILD_TYPE=Release'], { capture: true });
  run('cmake', ['--build', 'build', '-j', String(os.cpus().length), '--target', 'stepwise_bench', 'stepwise_matvec_ceiling']);
  if (!['node', 'chromium', 'cold', 'paint'].some((g) => only.has(g))) return;
  log('WebAssembly build (build-wasm/)');
  run('bash', ['tools/build_wasm.sh']);
}

// The previous release's native benchmark: git revision `rev` checked out (detached) into a worktree
// under build/bench-baseline/src (reused when it is already there, moved to `rev` when not), and only its
// stepwise_bench built there, as the main build is (Release, no tests). Incremental: once built, a later
// run only checks it is up to date (also under --no-build: the revision's sources do not change).
// Returns {rev, error} (and says why) when it cannot be had: the run goes on without it; but an unknown
// revision given explicitly (--baseline REV) stops the run.
function prepareBaseline(rev, explicit) {
  const dir = at('build/bench-baseline/src');
  const buildDir = at('build/bench-baseline/build');
  const git = (...a) => run('git', a, { capture: true }).trim();
  try {
    let commit;
    try {
      commit = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
    } catch {
      if (explicit) fail(`--baseline ${rev}: no such revision in this repository`);
      throw new Error(`no revision ${rev} in this repository (a shallow clone?)`);
    }
    const subject = git('log', '-1', '--format=%h %s', commit);
    const isWorktree = existsSync(dir) &&
      (() => { try { return realpathSync(git('-C', dir, 'rev-parse', '--show-toplevel')) === realpathSync(dir); } catch { return false; } })();
    if (!isWorktree) {
      if (existsSync(dir)) throw new Error(`${path.relative(ROOT, dir)} exists but is not a git worktree: remove it`);
      log(`baseline: git worktree add --detach ${path.relative(ROOT, dir)} ${commit.slice(0, 12)} (${rev})`);
      run('git', ['worktree', 'prune'], { capture: true });
      run('git', ['worktree', 'add', '--detach', dir, commit], { capture: true });
    } else if (git('-C', dir, 'rev-parse', 'HEAD') !== commit) {
      log(`baseline: moving ${path.relative(ROOT, dir)} to ${commit.slice(0, 12)} (${rev})`);
      run('git', ['-C', dir, 'checkout', '--quiet', '--detach', commit], { capture: true });
    }
    log(`baseline: building stepwise_bench of ${subject.split(' ')[0]} in ${path.relative(ROOT, buildDir)}`);
    if (!existsSync(path.join(buildDir, 'CMakeCache.txt'))) {
      run('cmake', ['-S', dir, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', '-DSTEPWISE_TESTS=OFF'], { capture: true });
    }
    run('cmake', ['--build', buildDir, '-j', String(os.cpus().length), '--target', 'stepwise_bench'], { capture: true });
    const binary = path.join(buildDir, 'tools/bench/stepwise_bench');
    if (!existsSync(binary)) throw new Error(`no ${path.relative(ROOT, binary)} after the build`);
    return { rev, commit, subject, binary: path.relative(ROOT, binary) };
  } catch (error) {
    log(`baseline ${rev}: not available (${String(error.message).split('\n')[0]}); going on without it`);
    return { rev, error: String(error.message).split('\n')[0] };
  }
}

function prepareModels(args, settings, out) {
  const small = at(args.model);
  if (!existsSync(small)) fail(`no model file ${args.model} (pass --model FILE)`);
  const suffix = args.baseDtype === 'Q8' ? '-q8' : '';
  const large = path.join(out, `${args.quick ? 'base-tiny' : 'base-random'}${suffix}.safetensors`);
  const maker = at('tools/bench/make_base_model.py');
  if (!newer(large, maker, small)) {
    log(`writing the base-shaped model with random weights (${args.baseDtype}): ${path.relative(ROOT, large)}`);
    run(PYTHON, [maker, '--like', small, '--out', large, '--dtype', args.baseDtype, ...(args.quick ? ['--tiny'] : [])]);
  }
  const models = [
    { key: 'small', file: small, settings: settings.small },
    { key: 'large', file: large, settings: settings.large },
  ];
  for (const m of models) {
    m.config = modelConfig(m.file);
    m.name = m.config.name;
    m.words = wordsFor(m.config, m.settings.words);
    m.onnx = path.join(out, 'onnx', path.basename(m.file, '.safetensors'));
    const exporter = at('tools/bench/export_onnx.py');
    if (args.only.has('ort') && !newer(path.join(m.onnx, 'decoder.onnx'), m.file, exporter)) {
      log(`exporting ${m.name} to ONNX: ${path.relative(ROOT, m.onnx)}`);
      run(PYTHON, [exporter, '--model', m.file, '--out', m.onnx]);
    }
    const tokens = m.config.target_vocab.tokens;
    m.bos = tokens.indexOf(m.config.target_vocab.bos);
    m.eos = tokens.indexOf(m.config.target_vocab.eos);
    m.pad = tokens.indexOf(m.config.target_vocab.pad);
    m.maxNew = m.settings.maxLength || m.config.max_target_len;
  }
  return models;
}

// -------------------------------------------------------------------------------------------- engines

function engineOptions(m, settings, overrides = {}) {
  const s = m.settings;
  return { words: m.words, samples: s.samples, min_seconds: s.minSeconds, warmup_seconds: settings.warmupSeconds,
    max_length: s.maxLength, positions: s.positions, matvec_shapes: s.matvecShapes, ...overrides };
}

function nodeJob(job, out) {
  const file = path.join(out, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  return runJson(process.execPath, [at('tools/bench/node_runner.mjs'), file]);
}

// The teacher-forced targets as text for the JS API (which takes phonemes as text): only when no
// special token is among them (the random model emits some; the API rejects them as input).
function targetTexts(m, targets) {
  const tokens = m.config.target_vocab.tokens;
  const specials = new Set([m.bos, m.eos, m.pad]);
  if (targets.some((t) => t.length < 2 || t.slice(1).some((id) => specials.has(id)))) return null;
  return targets.map((t) => t.slice(1).map((id) => tokens[id]).join(' '));
}

async function benchmarkRound(m, settings, out, page, reference, { only, baseline, round }) {
  const r = {};
  const timing = { samples: m.settings.samples, minSeconds: m.settings.minSeconds, warmupSeconds: settings.warmupSeconds };
  const eigenOverrides = { sections: m.settings.eigen, positions: m.settings.eigenPositions };

  // This build with the step probe measured beside each step and conversion ("probe": us_probe, greedy.probe),
  // and the previous release's build on its positions and greedy sections (it has no probe: its
  // figures are the step before the probe existed). The two take turns: which goes first alternates by round.
  const optionsFile = path.join(out, 'options.json');
  const nativeRun = () => {
    log(`${m.name}: Stepwise native (probe off, and probe on in turns)`);
    writeFileSync(optionsFile, JSON.stringify(engineOptions(m, settings, { probe: true })));
    r.native = runJson(at('build/tools/bench/stepwise_bench'), ['--model', m.file, '--options', optionsFile]);
  };
  const baselineRun = () => {
    if (!baseline?.binary) return;
    log(`${m.name}: Stepwise native, previous release (${baseline.subject.split(' ')[0]}, ${baseline.rev})`);
    const file = path.join(out, 'options-baseline.json');
    writeFileSync(file, JSON.stringify(engineOptions(m, settings, { sections: ['positions', 'greedy'] })));
    try {
      r.baseline = runJson(at(baseline.binary), ['--model', m.file, '--options', file]);
    } catch (error) {
      log(`${m.name}: the previous release's stepwise_bench failed (${String(error.message).split('\n')[0]}); this round goes on without it`);
    }
  };
  for (const step of round % 2 ? [baselineRun, nativeRun] : [nativeRun, baselineRun]) step();
  reference ??= r.native;
  const cases = reference.greedy.inputs.map((source, i) => ({ source, target: reference.forward.targets[i] }));
  const texts = targetTexts(m, reference.forward.targets);

  if (only.has('node')) {
    log(`${m.name}: Stepwise WebAssembly under Node (engine benchmark, SIMD and plain Eigen builds; JS API)`);
    r.wasm_node = nodeJob({ kind: 'engine', module: 'stepwise-bench', model: m.file, options: engineOptions(m, settings) }, out);
    r.eigen_node = nodeJob({ kind: 'engine', module: 'stepwise-bench-eigen', model: m.file,
      options: engineOptions(m, settings, eigenOverrides) }, out);
    r.api_node = nodeJob({ kind: 'api', model: m.file, words: m.words, targets: texts ?? [],
      timing: { ...timing, maxLength: m.settings.maxLength } }, out);
  }

  if (only.has('ort')) {
    log(`${m.name}: ONNX Runtime Web under Node`);
    r.ort_node = nodeJob({ kind: 'ort', onnx: m.onnx, cases, limits: { bos: m.bos, eos: m.eos, maxNew: m.maxNew }, timing }, out);
  }

  if (only.has('torch')) {
    log(`${m.name}: PyTorch eager, 1 thread`);
    writeFileSync(path.join(out, 'cases.json'), JSON.stringify({ sources: cases.map((c) => c.source), targets: cases.map((c) => c.target) }));
    r.torch = runJson(PYTHON, [at('tools/bench/torch_bench.py'), '--model', m.file, '--cases', path.join(out, 'cases.json'),
      '--threads', '1', '--samples', String(m.settings.samples), '--min-seconds', String(m.settings.minSeconds),
      '--warmup-seconds', String(settings.warmupSeconds), '--max-new', String(m.settings.maxLength)]);
  }

  if (!only.has('chromium')) return r;
  log(`${m.name}: Stepwise WebAssembly in Chromium (engine benchmark; JS API)`);
  const url = `/models/${m.key}.safetensors`;
  r.wasm_chromium = await inPage(page, (a) => window.bench.engine('stepwise-bench', a.url, a.options), { url, options: engineOptions(m, settings) });
  r.api_chromium = await inPage(page, (a) => window.bench.api(a.url, a.words, a.targets, a.timing),
    { url, words: m.words, targets: texts ?? [], timing: { ...timing, maxLength: m.settings.maxLength } });
  return r;
}

// Each call in a fresh page (a fresh module, its memory returned afterwards).
let harnessUrl = null;
async function inPage(context, fn, arg) {
  const page = await context.newPage();
  try {
    await page.goto(harnessUrl);
    await page.waitForFunction(() => window.benchReady === true);
    return await page.evaluate(fn, arg);
  } finally {
    await page.close();
  }
}

function torchOtherThreads(m, settings, out, reference) {
  const threads = settings.torchThreads.filter((t) => t !== 1);
  if (!threads.length || !settings.otherThreadsWords) return null;
  log(`${m.name}: PyTorch eager, ${threads.join(', ')} threads (${settings.otherThreadsWords} words, one sample: slow under contention)`);
  const n = settings.otherThreadsWords;
  writeFileSync(path.join(out, 'cases-threads.json'), JSON.stringify({ sources: reference.greedy.inputs.slice(0, n),
    targets: reference.forward.targets.slice(0, n) }));
  return runJson(PYTHON, [at('tools/bench/torch_bench.py'), '--model', m.file, '--cases', path.join(out, 'cases-threads.json'),
    '--threads', threads.join(','), '--samples', '1', '--min-seconds', '0', '--warmup-seconds', '0',
    '--max-new', String(m.settings.maxLength)]);
}

function matvecCeiling(models, settings) {
  const shapes = new Set();
  for (const m of models) {
    const c = m.config;
    const d = c.d_model;
    for (const [r, k] of [[3 * d, d], [d, d], [c.d_ff, d], [d, c.d_ff], [c.target_vocab.tokens.length, d], ...m.settings.matvecShapes]) shapes.add(`${r}x${k}`);
  }
  const binary = at('build/tools/bench/stepwise_matvec_ceiling');
  if (!existsSync(binary)) return null;
  log('matrix-vector ceiling: Eigen built with -march=native');
  return runJson(binary, [String(settings.small.samples), String(settings.small.minSeconds), ...shapes]);
}

// ------------------------------------------------------------------------------------------ cold start

// Sizes of what a page must download for the shipped model, as files and compressed: gzip -9 (what
// most static hosts send) and brotli, precompressed at quality 11 (slow: cached in OUT/sizes.json;
// --quick uses quality 5).
let brotliQuality = 11;
function transferSizes(files, out) {
  const cacheFile = path.join(out, 'sizes.json');
  const cache = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
  const sizes = Object.fromEntries(Object.entries(files).map(([name, file]) => {
    const key = `${file}:${statSync(file).size}:${statSync(file).mtimeMs}:${brotliQuality}`;
    if (!cache[key]) {
      const body = readFileSync(file);
      cache[key] = {
        bytes: body.length,
        gzip: zlib.gzipSync(body, { level: 9 }).length,
        brotli: zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: brotliQuality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }).length,
      };
    }
    return [name, cache[key]];
  }));
  writeFileSync(cacheFile, JSON.stringify(cache));
  return sizes;
}

async function coldStart(browser, server, m, runs, word) {
  // Fill the server's compression cache first, so no run waits for the compressor.
  const urls = ['/tools/bench/page/cold.html', '/build-wasm/stepwise-wasm.js', '/web/stepwise.js', '/tools/bench/page/stepwise-wasm-shim.mjs', '/models/small.safetensors'];
  for (const u of urls) await fetch(server.url + u, { headers: { 'Accept-Encoding': 'br, gzip' } }).then((r) => r.arrayBuffer());
  const results = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/tools/bench/page/cold.html?model=/models/small.safetensors&word=${encodeURIComponent(word)}`);
    await page.waitForFunction(() => window.coldStart);
    await page.waitForTimeout(100);  // let the Element Timing entry arrive
    const r = await page.evaluate(() => ({
      ...window.coldStart,
      transfer: performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0) +
        performance.getEntriesByType('navigation')[0].transferSize,
      encodings: performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, ''), e.transferSize, e.decodedBodySize]),
    }));
    results.push({ first_token_ms: r.marks.painted ?? r.marks.frame, painted_by: r.marks.painted ? 'element-timing' : 'frame',
      marks: r.marks, token: r.token, transfer_bytes: r.transfer, resources: r.encodings });
    await context.close();
  }
  const firstToken = results.map((r) => r.first_token_ms);
  const phases = Object.fromEntries(['compiled', 'fetched', 'loaded', 'stepped'].map((k) => [k, median(results.map((r) => r.marks[k]))]));
  return { runs: results, first_token_ms: { median: median(firstToken), min: Math.min(...firstToken), max: Math.max(...firstToken) },
    phases_ms: phases, transfer_bytes: median(results.map((r) => r.transfer_bytes)) };
}

// The page built with model `m` into `dir` (tools/build_site.mjs) and served from there under a sub-path
// (tools/serve.mjs): { server }, or { skipped: why } when it cannot be.
async function servedSite(m, dir) {
  if (!existsSync(at('tools/build_site.mjs')) || !existsSync(at('tools/serve.mjs'))) return { skipped: 'no tools/build_site.mjs yet' };
  try {
    run(process.execPath, [at('tools/build_site.mjs'), '--model', m.file, '--out', dir], { capture: true });
  } catch (error) {
    return { skipped: `tools/build_site.mjs failed: ${error.message.split('\n')[0]}` };
  }
  const { serve } = await import(at('tools/serve.mjs'));
  return { server: await serve({ root: dir, base: '/stepwise/', port: 0, log: false }) };
}

// The page itself (tools/build_site.mjs, tools/serve.mjs), when it exists: built with this model into
// OUT/site, opened in a fresh context; "first token" is its first decoder step (the Step button
// pressed as soon as the page reports ready), painted.
async function siteColdStart(browser, m, out, runs) {
  const dir = path.join(out, 'site');
  const { skipped, server } = await servedSite(m, dir);
  if (skipped) return { skipped };
  const results = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      // In the page before its own scripts: press Step the frame the model is ready, then time the frame
      // after the first step's token is drawn.
      await page.addInitScript(() => {
        const poll = () => {
          const s = window.stepwiseState;
          if (s?.ready) {
            const button = document.getElementById('step');
            if (button) button.click();
            const wait = () => {
              if (window.stepwiseState.steps >= 1) {
                requestAnimationFrame(() => setTimeout(() => (window.siteColdStart = { ready_ms: s.readyAt, first_token_ms: performance.now() })));
              } else requestAnimationFrame(wait);
            };
            return requestAnimationFrame(wait);
          }
          requestAnimationFrame(poll);
        };
        requestAnimationFrame(poll);
      });
      await page.goto(server.url);
      const done = await page.waitForFunction(() => window.siteColdStart, null, { timeout: 20000 }).then(() => true, () => false);
      if (!done) {
        results.push({ error: 'the page never reported a first step (window.stepwiseState)' });
      } else {
        results.push(await page.evaluate(() => ({
          first_token_ms: window.siteColdStart.first_token_ms,
          transfer_bytes: performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0) +
            performance.getEntriesByType('navigation')[0].transferSize,
          resources: performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, ''), e.transferSize, e.decodedBodySize]),
        })));
      }
      await context.close();
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
  const ok = results.filter((r) => !r.error);
  if (!ok.length) return { runs: results, skipped: results[0]?.error };
  // what a visitor over http downloads: the page, its scripts, the engine and the binary model (engine.js
  // and model.js are the file:// fallbacks and are not fetched)
  const shipped = ['index.html', 'boot.js', 'app.js', 'stepwise.wasm', 'words.js', 'style.css', 'favicon.svg', path.basename(m.file)];
  const files = Object.fromEntries(shipped.filter((f) => existsSync(path.join(dir, f))).map((f) => [f, path.join(dir, f)]));
  return { runs: results, first_token_ms: { median: median(ok.map((r) => r.first_token_ms)), min: Math.min(...ok.map((r) => r.first_token_ms)),
    max: Math.max(...ok.map((r) => r.first_token_ms)) }, transfer_bytes: median(ok.map((r) => r.transfer_bytes)), files: transferSizes(files, out) };
}

// ------------------------------------------------------------------------------------- click to paint

// Issue 10 §7: the page (tools/build_site.mjs, built with this model into OUT/site-paint) in headless
// Chromium at 1440 x 900, every panel open, as it opens; `clicks` steps per word, asked for each way of
// paint.mjs SCENARIOS (Step clicked at the page's top: the issue's measurement; → with "Open the box" on
// screen), `rounds` times over (the ways taking turns). paint.mjs says how a step is timed.
async function paintRun(browser, m, out, settings) {
  const { skipped, server } = await servedSite(m, path.join(out, 'site-paint'));
  if (skipped) return { skipped };
  const runs = Object.fromEntries(settings.scenarios.map((sc) => [sc, []]));
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const scenario of settings.scenarios) {
        log(`click to next paint: round ${round + 1}/${settings.rounds}, ${SCENARIOS[scenario].label} (${settings.words.join(', ')}, ${settings.clicks} steps each)`);
        runs[scenario].push(await measurePaint(browser, server.url, { words: settings.words, clicks: settings.clicks, scenario }));
      }
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
  const scenarios = Object.fromEntries(Object.entries(runs).map(([sc, list]) => {
    const r = mergeRuns(list);
    return [sc, { ...r, met: paintMet(r) }];
  }));
  return { scenarios, settings };
}

function paintMarkdown(p) {
  if (!p) return [];
  if (p.skipped) return ['', `**Click to next paint**: not measured (${p.skipped}).`];
  const lines = [];
  for (const [scenario, r] of Object.entries(p.scenarios)) {
    lines.push('', `**${scenario === 'click' ? 'Click to next paint' : 'Key to next paint'}** (issue 10 §7; ms; ${SCENARIOS[scenario].label}; the page in headless ` +
      `Chromium, ${r.viewport.width} x ${r.viewport.height}, every panel open; ${p.settings.clicks} steps per word, ${p.settings.rounds} round(s); ` +
      'median (min–max); how it is timed: tools/bench/paint.mjs):', '', paintTable(r), '',
    `Median ≤ 16 ms, max ≤ 50 ms${scenario === 'click' ? ' (the issue\'s goal)' : ''}: **${r.met ? 'met' : 'not met'}** ` +
      `(median ${fmt(r.overall.paint.median, 1)}, max ${fmt(r.overall.paint.max, 1)}).` +
      (r.errors.length ? ` Page errors: ${r.errors.length} (the first: ${r.errors[0].slice(0, 200)}).` : ''));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------- summarizing

// The headline numbers of one model over the rounds.
function summarize(m, rounds, torchThreads, baseline) {
  const pick = (engine, keys) => across(rounds.map((r) => get(r[engine], keys)));
  const value = (engine, keys) => median(rounds.map((r) => get(r[engine], keys)).filter((x) => x != null));
  // One table row: an engine's greedy figures (and its mean step, and its teacher-forced pass, where it has them).
  const row = (engine, label, { at = '', step = false, forward = true } = {}) => ({
    label,
    ...(step && { step: value(engine, `${at}greedy.us_per_step`) }),
    token: pick(engine, `${at}greedy.us_per_token`),
    tokens_s: pick(engine, `${at}greedy.tokens_per_s`),
    words_s: pick(engine, `${at}greedy.words_per_s`),
    ...(forward && { forward: pick(engine, `${at}forward.us_per_word`) }),
  });
  const rows = {
    native: row('native', 'Stepwise native (g++ -O3, SSE2, Eigen)', { step: true }),
    native_probe: { label: 'Stepwise native, step probe on (Generator::set_probe(true))', step: value('native', 'greedy.probe.us_per_step'),
      token: pick('native', 'greedy.probe.us_per_token') },
    ...(baseline?.binary && { baseline: row('baseline', `Stepwise native, previous release (${releaseName(baseline)}; no probe)`, { step: true, forward: false }) }),
    wasm_node: row('wasm_node', 'Stepwise WASM SIMD, Node (engine)', { step: true }),
    api_node: row('api_node', 'Stepwise WASM SIMD, Node (JS API)'),
    wasm_chromium: row('wasm_chromium', 'Stepwise WASM SIMD, Chromium (engine)', { step: true }),
    api_chromium: row('api_chromium', 'Stepwise WASM SIMD, Chromium (JS API)'),
    eigen_node: row('eigen_node', 'Stepwise plain Eigen-in-WASM, Node (engine)', { step: true, forward: false }),
    ort_node: row('ort_node', `ONNX Runtime Web ${rounds[0].ort_node?.version} (WASM SIMD, 1 thread), Node`),
    torch_1: row('torch', `PyTorch ${rounds[0].torch?.torch} eager, 1 thread`, { at: 'threads.1.' }),
  };
  for (const [t, v] of Object.entries(torchThreads?.threads ?? {})) {
    rows[`torch_${t}`] = { label: `PyTorch ${torchThreads.torch} eager, ${t} threads (${torchThreads.words} words, 1 sample)`,
      token: v.greedy.us_per_token, tokens_s: v.greedy.tokens_per_s, words_s: v.greedy.words_per_s, forward: v.forward.us_per_word };
  }
  // Ratios inside each round, then their median and range over rounds (drift in the machine's load
  // cancels); `best`: the ratio of the two engines' fastest samples over all rounds, the least disturbed.
  const ratio = (a, b) => {
    const valueOf = (x) => (x != null && typeof x === 'object' ? x.median : x);
    const perRound = rounds.map((r) => valueOf(get(r, a)) / valueOf(get(r, b))).filter(Number.isFinite);
    const fastest = (path) => Math.min(...rounds.map((r) => get(r, path)?.min).filter(Number.isFinite));
    const best = typeof get(rounds[0], a) === 'object' ? fastest(a) / fastest(b) : null;
    return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), rounds: perRound,
      best: Number.isFinite(best) && best > 0 ? best : null };
  };
  // Per position, over rounds: `field` ("us": the step as run; "us_probe": with a StepProbe attached).
  const at = (r, engine, p) => r[engine]?.positions?.find((q) => q.position === p);
  const positions = (engine, field = 'us') => Object.fromEntries((rounds[0][engine]?.positions ?? []).filter((p) => p[field]).map((p) => [p.position, {
    us: across(rounds.map((r) => at(r, engine, p.position)?.[field])),
    ...(field === 'us' && { gflops: median(rounds.map((r) => at(r, engine, p.position)?.gflops?.median).filter(Number.isFinite)) }) }]));
  // Per position, a ratio per round (its median and range over rounds), and the ratio of fastest samples.
  const positionRatios = (perRound, fastest) => Object.fromEntries((rounds[0].native.positions ?? []).map(({ position: p }) => {
    const values = rounds.map((r) => perRound(r, p)).filter(Number.isFinite);
    const best = fastest ? fastest(p) : null;
    return [p, values.length ? { median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values,
      best: Number.isFinite(best) && best > 0 ? best : null } : null];
  }).filter(([, v]) => v));
  const fastestAt = (engine, p) => Math.min(...rounds.map((r) => at(r, engine, p)?.us?.min).filter(Number.isFinite));
  // Greedy outputs: every engine must produce the native build's tokens.
  const agree = (outputs) => (outputs ? outputs.filter((o, i) => JSON.stringify(o) === JSON.stringify(rounds[0].native.greedy.outputs[i])).length : null);
  const first = rounds[0];
  const maxDiff = (a, b) => (a && b && a.length === b.length ? Math.max(...a.map((x, i) => Math.abs(x - b[i]))) : null);
  return {
    model: first.native.model,
    rounds: rounds.length,
    words: m.words.length,
    tokens: first.native.greedy.tokens,
    rows,
    positions: { native: positions('native'), native_probe: positions('native', 'us_probe'), baseline: positions('baseline'),
      wasm_node: positions('wasm_node'), wasm_chromium: positions('wasm_chromium'), eigen_node: positions('eigen_node') },
    // The step probe's cost: this build without a probe against the previous release (separate processes,
    // in turns), and with a probe against without (in turns sample by sample, in one process).
    probe: {
      off_over_baseline: positionRatios((r, p) => at(r, 'native', p)?.us?.median / at(r, 'baseline', p)?.us?.median,
        (p) => fastestAt('native', p) / fastestAt('baseline', p)),
      on_over_off: positionRatios((r, p) => at(r, 'native', p)?.probe_over_off?.median),
    },
    ratios: {
      wasm_node_over_native_step: ratio('wasm_node.greedy.us_per_step', 'native.greedy.us_per_step'),
      wasm_chromium_over_native_step: ratio('wasm_chromium.greedy.us_per_step', 'native.greedy.us_per_step'),
      eigen_over_simd_step_node: ratio('eigen_node.greedy.us_per_step', 'wasm_node.greedy.us_per_step'),
      ort_over_api_token_node: ratio('ort_node.greedy.us_per_token', 'api_node.greedy.us_per_token'),
      ort_over_wasm_token_node: ratio('ort_node.greedy.us_per_token', 'wasm_node.greedy.us_per_token'),
      torch1_over_native_token: ratio('torch.threads.1.greedy.us_per_token', 'native.greedy.us_per_token'),
      torch1_over_wasm_token_node: ratio('torch.threads.1.greedy.us_per_token', 'wasm_node.greedy.us_per_token'),
      torch1_over_api_token_chromium: ratio('torch.threads.1.greedy.us_per_token', 'api_chromium.greedy.us_per_token'),
      ort_over_api_forward_node: ratio('ort_node.forward.us_per_word', 'api_node.forward.us_per_word'),
      ort_over_wasm_forward_node: ratio('ort_node.forward.us_per_word', 'wasm_node.forward.us_per_word'),
      native_over_baseline_token: ratio('native.greedy.us_per_token', 'baseline.greedy.us_per_token'),
      native_over_baseline_step: ratio('native.greedy.us_per_step', 'baseline.greedy.us_per_step'),
      probe_over_off_token: ratio('native.greedy.probe.us_per_token', 'native.greedy.us_per_token'),
      probe_over_off_step: ratio('native.greedy.probe.us_per_step', 'native.greedy.us_per_step'),
    },
    agreement: {
      words: m.words.length,
      wasm_node: agree(first.wasm_node?.greedy?.outputs), api_node: agree(first.api_node?.greedy?.outputs),
      wasm_chromium: agree(first.wasm_chromium?.greedy?.outputs), ort_node: agree(first.ort_node?.greedy?.outputs),
      torch: agree(first.torch?.threads?.['1']?.greedy?.outputs),
      baseline: agree(first.baseline?.greedy?.outputs),
      // every round: the probed conversions chose the same tokens as the unprobed ones
      probe: rounds.every((r) => r.native.greedy.probe?.outputs_equal !== false) ? m.words.length : 0,
      forward_logits_max_abs_diff_ort_vs_stepwise: maxDiff(first.ort_node?.first_logits, first.api_node?.first_logits),
    },
  };
}

function matvecSummary(models, rounds, ceiling) {
  const shapes = new Map();
  for (const m of models) {
    for (const r of rounds[m.key]) {
      for (const [engine, list] of [['native', r.native.matvec], ['wasm', r.wasm_node?.matvec], ['chromium', r.wasm_chromium?.matvec]]) {
        for (const entry of list ?? []) {
          const key = `${entry.rows}x${entry.cols}`;
          if (!shapes.has(key)) shapes.set(key, { rows: entry.rows, cols: entry.cols, native_eigen: [], wasm_eigen: [], wasm_simd: [], chromium_simd: [], ratio_node: [],
            native_q8: [], wasm_q8: [], chromium_q8: [] });
          const s = shapes.get(key);
          // The int8 kernel the engine runs: AVX2 where the CPU has it, else SSE2; in WebAssembly SIMD128.
          const q8 = entry.kernels['q8-avx2'] ?? entry.kernels['q8-sse2'] ?? entry.kernels['q8-simd128'];
          if (engine === 'native') s.native_eigen.push(entry.kernels.eigen.median), s.native_q8.push(q8?.median);
          if (engine === 'wasm') {
            s.wasm_eigen.push(entry.kernels.eigen.median);
            s.wasm_simd.push(entry.kernels['wasm-simd128'].median);
            s.ratio_node.push(entry.simd_over_eigen.median);
            s.wasm_q8.push(q8?.median);
          }
          if (engine === 'chromium') s.chromium_simd.push(entry.kernels['wasm-simd128'].median), s.chromium_q8.push(q8?.median);
        }
      }
    }
  }
  const ceilingOf = Object.fromEntries((ceiling ?? []).map((e) => [`${e.rows}x${e.cols}`, e.kernels.eigen.median]));
  return [...shapes.entries()].map(([key, s]) => ({ shape: key, rows: s.rows, cols: s.cols, native_eigen: median(s.native_eigen),
    native_march_native: ceilingOf[key] ?? null, wasm_eigen: median(s.wasm_eigen), wasm_simd: median(s.wasm_simd),
    chromium_simd: median(s.chromium_simd), simd_over_eigen: median(s.ratio_node),
    native_q8: median(s.native_q8.filter(Number.isFinite)), wasm_q8: median(s.wasm_q8.filter(Number.isFinite)),
    chromium_q8: median(s.chromium_q8.filter(Number.isFinite)) }));
}

// ------------------------------------------------------------------------------------------ reporting

const fmt = (x, digits = 0) => (x == null || !Number.isFinite(x) ? '–' : x >= 1e4 ? Math.round(x).toLocaleString('en') : x.toFixed(digits));
const cell = (s, digits = 0) => (s == null ? '–' : typeof s === 'number' ? fmt(s, digits) : `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`);

// "abc1234, 9fe395b^": the previous release as the tables name it.
const releaseName = (b) => `${b.subject.split(' ')[0]}, ${b.rev}`;

// "1.23× (rounds 1.1–1.4; best 1.2×)": a ratio's median over rounds, its range, the ratio of fastest samples.
const ratioText = (r, digits = 1) => (r ? `${fmt(r.median, digits)}× (rounds ${fmt(r.min, digits)}–${fmt(r.max, digits)}` +
  (r.best != null ? `; fastest samples ${fmt(r.best, digits)}×` : '') + ')' : '–');

function targets(summary, matvec, cold, site) {
  const small = summary.small;
  const large = summary.large;
  const shapesOf = (config) => new Set([[3 * config.d_model, config.d_model], [config.d_model, config.d_model], [config.d_ff, config.d_model],
    [config.d_model, config.d_ff], [config.target_vocab, config.d_model]].map(([r, c]) => `${r}x${c}`));
  const smallShapes = shapesOf(small.model);
  const simdSmall = matvec.filter((m) => smallShapes.has(m.shape)).map((m) => m.simd_over_eigen).filter(Number.isFinite);
  const simdAll = matvec.map((m) => m.simd_over_eigen).filter(Number.isFinite);
  const pos64 = large.positions.wasm_chromium[64]?.us;
  const siteOk = site && !site.skipped;
  const coldMs = siteOk ? site.first_token_ms.median : cold.first_token_ms.median;
  // WASM + JS + weights: as the page ships them when it was built, else the module and wrapper files
  const siteSizes = siteOk && Object.fromEntries(Object.entries(site.files).filter(([f]) => f.endsWith('.wasm') || f.endsWith('.safetensors') || ['app.js', 'boot.js'].includes(f)));
  const sizes = siteSizes || cold.sizes;
  const pageBrotli = siteOk ? Object.values(site.files).reduce((s, f) => s + f.brotli, 0) : NaN;
  const totalBrotli = Object.values(sizes).reduce((s, f) => s + f.brotli, 0);
  const totalGzip = Object.values(sizes).reduce((s, f) => s + f.gzip, 0);
  const r = (x) => x?.median;
  const list = [
    ['WASM step ≤ 1.5× native step (same model, native without -march=native)', '≤ 1.5×',
      r(small.ratios.wasm_node_over_native_step), (v) => v <= 1.5,
      `G2P, mean step of greedy decoding, Node: ${ratioText(small.ratios.wasm_node_over_native_step, 2)}; Chromium ${ratioText(small.ratios.wasm_chromium_over_native_step, 2)}; ` +
        `base-shaped, Node: ${ratioText(large.ratios.wasm_node_over_native_step, 2)}`],
    ['WASM SIMD matrix–vector ≥ 4× plain Eigen-in-WASM', '≥ 4×', median(simdSmall), (v) => v >= 4,
      `median over the G2P model's ${simdSmall.length} shapes (lowest ${fmt(Math.min(...simdSmall), 1)}×); all ${simdAll.length} shapes, base-shaped included: ` +
        `median ${fmt(median(simdAll), 1)}×, lowest ${fmt(Math.min(...simdAll), 1)}×; whole greedy step: ${ratioText(small.ratios.eigen_over_simd_step_node)} faster than the plain Eigen-in-WASM build`],
    ['per generated token ≥ 3× faster than ONNX Runtime Web (both WASM)', '≥ 3×', r(small.ratios.ort_over_api_token_node), (v) => v >= 3,
      `G2P, Stepwise's JS API vs ORT Web, Node: ${ratioText(small.ratios.ort_over_api_token_node)}; engine alone ${ratioText(small.ratios.ort_over_wasm_token_node)}; ` +
        `base-shaped ${ratioText(large.ratios.ort_over_api_token_node)}`],
    ['per generated token ≥ 10× faster than PyTorch eager (native)', '≥ 10×', r(small.ratios.torch1_over_native_token), (v) => v >= 10,
      `G2P, PyTorch at its best thread count (1): ${ratioText(small.ratios.torch1_over_native_token)}; base-shaped ${ratioText(large.ratios.torch1_over_native_token)}`],
    ['per generated token ≥ 4× faster than PyTorch eager (WASM)', '≥ 4×', r(small.ratios.torch1_over_api_token_chromium), (v) => v >= 4,
      `G2P, Stepwise's JS API in Chromium vs PyTorch, 1 thread: ${ratioText(small.ratios.torch1_over_api_token_chromium)}; engine in Node ${ratioText(small.ratios.torch1_over_wasm_token_node)}; ` +
        `base-shaped ${ratioText(large.ratios.torch1_over_api_token_chromium)}`],
    ['teacher-forced forward pass not slower than ONNX Runtime Web', '≥ 1×', r(small.ratios.ort_over_api_forward_node), (v) => v >= 1,
      `G2P, JS API vs ORT Web, Node: ${ratioText(small.ratios.ort_over_api_forward_node, 2)}; base-shaped, engine: ${ratioText(large.ratios.ort_over_wasm_forward_node, 2)}`],
    ['base-shaped model: WASM decoder step at position 64 ≤ 10 ms in Chromium', '≤ 10 ms', pos64?.median / 1000, (v) => v <= 10,
      `${fmt(pos64?.median / 1000, 2)} ms (fastest sample ${fmt(pos64?.min / 1000, 2)} ms; Node ${fmt(large.positions.wasm_node[64]?.us?.median / 1000, 2)} ms; ` +
        `native ${fmt(large.positions.native[64]?.us?.median / 1000, 2)} ms)`],
    ['page cold start: first token on screen ≤ 500 ms after navigation', '≤ 500 ms', coldMs, (v) => v <= 500,
      (siteOk ? `the page (tools/build_site.mjs), median of ${site.runs.length} (${fmt(site.first_token_ms.min)}–${fmt(site.first_token_ms.max)} ms); ` : `the page: ${site?.skipped ?? 'not measured'}; `) +
        `minimal harness page ${fmt(cold.first_token_ms.median)} ms (${fmt(cold.first_token_ms.min)}–${fmt(cold.first_token_ms.max)})`],
    ['total transfer (WASM + JS + weights) ≤ 1.5 MB compressed', '≤ 1.5 MB', totalBrotli / 1e6, (v) => v <= 1.5,
      `brotli-${brotliQuality}: ${Object.entries(sizes).map(([n, x]) => `${n} ${fmt(x.brotli / 1e3)} kB`).join(', ')}; gzip -9 total ${fmt(totalGzip / 1e6, 2)} MB` +
        (siteOk ? `; the whole page (its HTML, CSS and the ${Object.keys(site.files).length - Object.keys(sizes).length} other files, words.js of held-out words included): ` +
          `${fmt(pageBrotli / 1e6, 2)} MB brotli, and it transferred ${fmt(site.transfer_bytes / 1e6, 2)} MB as served (gzip)` : '')],
  ];
  return list.map(([name, goal, value, test, detail]) => ({ target: name, goal, value, met: Number.isFinite(value) ? test(value) : null, detail }));
}

function markdown(results) {
  const { summary, matvec, machine: mc, targets: tg } = results;
  const lines = [];
  lines.push(`Machine: ${mc.cpu}, ${mc.cores} cores (shared: load average ${mc.load_average_start.map((x) => x.toFixed(1)).join(' / ')} at start, ` +
    `${mc.load_average_end.map((x) => x.toFixed(1)).join(' / ')} at end), ${mc.memory_gib} GiB; Node ${mc.node}, Chromium ${mc.chromium}, ` +
    `g++ ${mc.gcc}, Emscripten ${mc.emscripten}, onnxruntime-web ${mc.onnxruntime_web}. Every engine single-threaded unless stated; ` +
    'medians over rounds of per-round medians (min–max over all samples); ratios: medians of per-round ratios.');
  for (const key of ['small', 'large']) {
    const s = summary[key];
    const md = s.model;
    lines.push('', `**${md.name}** (d_model ${md.d_model}, ${md.n_heads} heads, ${md.n_encoder_layers}+${md.n_decoder_layers} layers, d_ff ${md.d_ff}, ` +
      `${fmt(md.parameters / 1e6, 1)} M parameters): ${s.rounds} rounds, ${s.words} words, ${s.tokens} generated tokens` +
      (key === 'large' ? ` (at most ${results.settings.large.maxLength} per word; random weights)` : '') + '.', '',
      '| engine | µs per decoder step | µs per generated token | tokens/s | words/s | teacher-forced pass, µs per word |',
      '|---|---|---|---|---|---|');
    for (const row of Object.values(s.rows).filter((x) => [x.step, x.token, x.forward].some((v) => v != null && !Number.isNaN(v)))) {
      lines.push(`| ${row.label} | ${fmt(row.step)} | ${cell(row.token)} | ${cell(row.tokens_s)} | ${cell(row.words_s, 1)} | ${cell(row.forward)} |`);
    }
  }
  lines.push('', 'µs per decoder step: (whole greedy conversions − the encoder alone) / generated tokens. µs per generated token: ' +
    'whole conversions (tokenize, encode, every step, detokenize) / generated tokens.');
  lines.push('', '**Step latency against position** (µs; position p: the step that feeds the p-th token and reads p cached keys):');
  const probed = ['small', 'large'].some((k) => Object.keys(summary[k].positions.native_probe).length);
  for (const key of ['small', 'large']) {
    const s = summary[key];
    const ps = Object.keys(s.positions.native);
    lines.push('', `| ${s.model.name}: position | ${ps.join(' | ')} |`, `|---|${ps.map(() => '---').join('|')}|`);
    for (const [engine, label] of [['native', probed ? 'native, probe off' : 'native'], ['native_probe', 'native, probe on'],
      ['baseline', `native, previous release (${results.baseline?.subject ? releaseName(results.baseline) : ''})`],
      ['wasm_node', 'WASM, Node'], ['wasm_chromium', 'WASM, Chromium'], ['eigen_node', 'plain Eigen-in-WASM, Node']]) {
      if (!Object.keys(s.positions[engine]).length) continue;  // not in this run
      lines.push(`| ${label} | ${ps.map((p) => fmt(s.positions[engine][p]?.us?.median)).join(' | ')} |`);
    }
    lines.push(`| native GFLOP/s | ${ps.map((p) => fmt(s.positions.native[p]?.gflops, 1)).join(' | ')} |`);
    if (Object.keys(s.positions.wasm_node).length) lines.push(`| WASM (Node) GFLOP/s | ${ps.map((p) => fmt(s.positions.wasm_node[p]?.gflops, 1)).join(' | ')} |`);
  }
  if (probed) lines.push('', ...probeTables(results));
  lines.push('', '**Matrix–vector ceiling** (GFLOP/s, y = W x + b, one thread):', '');
  if (matvec.some((m) => Number.isFinite(m.wasm_simd) || Number.isFinite(m.chromium_simd))) {
    lines.push('| shape | native Eigen (-O3, SSE2) | native Eigen (-march=native) | native int8 | WASM Eigen (-O3 -msimd128) | WASM SIMD kernels, Node | WASM SIMD kernels, Chromium | SIMD / Eigen (WASM) | WASM int8, Node | WASM int8, Chromium |',
      '|---|---|---|---|---|---|---|---|---|---|');
    for (const m of matvec) {
      lines.push(`| ${m.shape} | ${fmt(m.native_eigen, 1)} | ${fmt(m.native_march_native, 1)} | ${fmt(m.native_q8, 1)} | ${fmt(m.wasm_eigen, 1)} | ${fmt(m.wasm_simd, 1)} | ${fmt(m.chromium_simd, 1)} | ${fmt(m.simd_over_eigen, 1)}× | ${fmt(m.wasm_q8, 1)} | ${fmt(m.chromium_q8, 1)} |`);
    }
  } else {  // a run without the WebAssembly engines (--only)
    lines.push('| shape | native Eigen (-O3, SSE2) | native Eigen (-march=native) | native int8 |', '|---|---|---|---|');
    for (const m of matvec) lines.push(`| ${m.shape} | ${fmt(m.native_eigen, 1)} | ${fmt(m.native_march_native, 1)} | ${fmt(m.native_q8, 1)} |`);
  }
  const eff = results.efficiency;
  lines.push('', `Achieved per step (median over positions) as a share of the best matrix–vector rate of the same build: ` +
    Object.entries(eff).map(([k, v]) => `${k} ${fmt(v.step_gflops, 1)} GFLOP/s = ${fmt(100 * v.share)} % of ${fmt(v.ceiling, 1)}` +
      (v.share_of_march_native != null ? ` (${fmt(100 * v.share_of_march_native)} % of the -march=native ${fmt(v.march_native, 1)})` : '')).join('; ') + '.');
  const c = results.cold;
  if (c) lines.push('', `**Cold start** (headless Chromium, localhost, fresh context each run): minimal harness page ${cell(c.first_token_ms)} ms ` +
    `to the first token on screen (phases: engine compiled ${fmt(c.phases_ms.compiled)}, weights fetched ${fmt(c.phases_ms.fetched)}, ` +
    `model loaded ${fmt(c.phases_ms.loaded)}, first step ${fmt(c.phases_ms.stepped)} ms), ${fmt(c.transfer_bytes / 1e6, 2)} MB transferred (brotli-9 as served)` +
    (results.site && !results.site.skipped ? `; the page (tools/build_site.mjs) ${cell(results.site.first_token_ms)} ms, ${fmt(results.site.transfer_bytes / 1e6, 2)} MB transferred (gzip)` : '') + '.');
  lines.push(...paintMarkdown(results.paint));
  if (tg) {
    lines.push('', '**Targets** (issue 5):', '', '| target | goal | measured | met | how |', '|---|---|---|---|---|');
    for (const t of tg) lines.push(`| ${t.target} | ${t.goal} | ${fmt(t.value, 2)} | ${t.met == null ? '–' : t.met ? 'yes' : '**no**'} | ${t.detail} |`);
  } else {
    lines.push('', `**Targets**: not judged (this run had only: ${results.settings.only.join(', ')}).`);
  }
  const a = summary.small.agreement;
  const agreed = [['wasm_node', 'WASM Node'], ['wasm_chromium', 'Chromium'], ['api_node', 'JS API'], ['ort_node', 'ONNX Runtime'], ['torch', 'PyTorch'],
    ['baseline', 'previous release'], ['probe', 'native, probe on']].filter(([k]) => a[k] != null).map(([k, label]) => `${a[k]}/${a.words} (${label})`);
  lines.push('', `Agreement (${summary.small.model.name}): greedy outputs equal to the native build's for ` + (agreed.join(', ') || '–') +
    (a.forward_logits_max_abs_diff_ort_vs_stepwise != null ? `; teacher-forced logits, ONNX Runtime vs Stepwise: max |diff| ${a.forward_logits_max_abs_diff_ort_vs_stepwise.toExponential(1)}` : '') + '.');
  return lines.join('\n');
}

// The step probe's cost, per model: per position, the previous release's step, this build's without and
// with a probe, and their ratios; then the same for whole greedy conversions.
function probeTables(results) {
  const b = results.baseline;
  const ratioCell = (r) => (r && Number.isFinite(r.median) ? `${fmt(r.median, 2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)})` : '–');
  const lines = ['**Step probe cost** (native, µs per decoder step; ' + (b?.binary ? `previous release: \`${b.rev}\` = ${b.subject}, ` +
    'its own stepwise_bench, run in turns with this build; ' : b?.error ? `previous release \`${b.rev}\` not measured: ${b.error}; ` : 'previous release not measured (--no-baseline, or --quick without --baseline); ') +
    'probe on: the same step with a StepProbe attached, timed in turns with it sample by sample. µs: median over rounds of per-round medians ' +
    '(min–max over all samples); ratios: median of per-round ratios (their range over rounds); "fastest": the ratio of the fastest samples):'];
  for (const key of ['small', 'large']) {
    const s = results.summary[key];
    const pr = s.probe;
    lines.push('', `| ${s.model.name}: position | previous release | probe off | probe on | probe off / previous release | fastest | probe on / probe off |`,
      '|---|---|---|---|---|---|---|');
    for (const p of Object.keys(s.positions.native)) {
      lines.push(`| ${p} | ${cell(s.positions.baseline[p]?.us)} | ${cell(s.positions.native[p]?.us)} | ${cell(s.positions.native_probe[p]?.us)} | ` +
        `${ratioCell(pr.off_over_baseline[p])} | ${pr.off_over_baseline[p]?.best != null ? `${fmt(pr.off_over_baseline[p].best, 2)}×` : '–'} | ${ratioCell(pr.on_over_off[p])} |`);
    }
    const r = s.rows;
    const x = s.ratios;
    lines.push(`| greedy, µs per step | ${fmt(r.baseline?.step)} | ${fmt(r.native.step)} | ${fmt(r.native_probe.step)} | ${ratioCell(x.native_over_baseline_step)} | – | ${ratioCell(x.probe_over_off_step)} |`);
    lines.push(`| greedy, µs per token | ${cell(r.baseline?.token)} | ${cell(r.native.token)} | ${cell(r.native_probe.token)} | ${ratioCell(x.native_over_baseline_token)} | ` +
      `${x.native_over_baseline_token.best != null ? `${fmt(x.native_over_baseline_token.best, 2)}×` : '–'} | ${ratioCell(x.probe_over_off_token)} |`);
  }
  lines.push('', 'greedy: whole conversions of the model\'s words (µs per step: minus the encoder alone); probe on: Generator::set_probe(true), ' +
    'each step recording the step that chose its token.');
  return lines;
}

// --------------------------------------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const settings = args.quick ? QUICK : FULL;
  brotliQuality = args.quick ? 5 : 11;
  if (args.rounds) for (const k of ['small', 'large']) settings[k].rounds = args.rounds;
  const out = at(args.out);
  mkdirSync(out, { recursive: true });
  const only = args.only;
  if (args.build) build(only);
  if (!only.has('native')) return paintOnly(args, settings, out);
  const browsing = only.has('chromium') || only.has('cold') || only.has('paint');
  const needed = ['build/tools/bench/stepwise_bench', ...(['node', 'chromium', 'cold', 'paint'].some((g) => only.has(g)) ?
    ['build-wasm/stepwise-bench.js', 'build-wasm/stepwise-bench-eigen.js', 'build-wasm/stepwise-wasm.js'] : [])];
  for (const f of needed) {
    if (!existsSync(at(f))) fail(`${f} is missing: build first (without --no-build)`);
  }
  const info = machine();
  const models = prepareModels(args, settings, out);
  // The previous release: explicit --baseline REV, else the default outside --quick (CI's --quick stays
  // fast); --no-baseline skips it.
  const baselineRev = args.baseline === undefined ? (args.quick ? null : DEFAULT_BASELINE) : args.baseline;
  const baseline = baselineRev ? prepareBaseline(baselineRev, args.baseline !== undefined) : null;

  const routes = {
    '/build-wasm/': at('build-wasm'),
    '/web/': at('web'),
    '/tools/bench/': at('tools/bench'),
    '/models/small.safetensors': models[0].file,
    '/models/large.safetensors': models[1].file,
  };
  let server = null, compressing = null, browser = null, context = null;
  if (browsing) {
    const { chromium } = await import('playwright-core');
    server = await serveFiles(routes);
    compressing = await serveFiles(routes, { compress: true });
    harnessUrl = `${server.url}/tools/bench/page/bench.html`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext();
  }

  const results = { settings: { quick: args.quick, only: [...only], ...settings }, machine: info, baseline, models: {}, summary: {} };
  const byModel = { small: [], large: [] };
  try {
    const rounds = Math.max(...models.map((m) => m.settings.rounds));
    for (let round = 0; round < rounds; round++) {
      for (const m of models.filter((x) => round < x.settings.rounds)) {
        log(`${m.name}: round ${round + 1}/${m.settings.rounds}`);
        byModel[m.key].push(await benchmarkRound(m, settings, out, context, byModel[m.key][0]?.native, { only, baseline, round }));
      }
    }
    // Other thread counts for PyTorch: the G2P model only (slow under contention; see the README).
    const torchThreads = { small: only.has('torch') ? torchOtherThreads(models[0], settings, out, byModel.small[0].native) : null, large: null };
    const ceiling = matvecCeiling(models, settings);
    let cold = null, site = null;
    if (only.has('cold')) {
      log('cold start: minimal harness page');
      cold = await coldStart(browser, compressing, models[0], settings.coldRuns, models[0].words[0]);
      cold.sizes = transferSizes({ 'stepwise-wasm.js (WASM + Emscripten JS)': at('build-wasm/stepwise-wasm.js'), 'stepwise.js (wrapper)': at('web/stepwise.js'),
        [`${path.basename(models[0].file)} (weights)`]: models[0].file }, out);
      log('cold start: the page (tools/build_site.mjs)');
      site = await siteColdStart(browser, models[0], out, settings.coldRuns);
    }
    if (only.has('paint')) results.paint = await paintRun(browser, models[0], out, settings.paint);

    for (const m of models) {
      results.models[m.key] = { file: path.relative(ROOT, m.file), words: m.words, rounds: byModel[m.key], torch_threads: torchThreads[m.key] };
      results.summary[m.key] = summarize(m, byModel[m.key], torchThreads[m.key], baseline);
    }
    results.matvec = matvecSummary(models, byModel, ceiling);
    results.matvec_ceiling = ceiling;
    // The engine's achieved rate per step against the best matrix-vector rate of the same build.
    const best = (k) => Math.max(...results.matvec.map((m) => m[k]).filter(Number.isFinite));
    const stepRate = (engine) => median(['small', 'large'].flatMap((k) => Object.values(results.summary[k].positions[engine]).map((p) => p.gflops)));
    results.efficiency = {
      native: { step_gflops: stepRate('native'), ceiling: best('native_eigen'), march_native: best('native_march_native') },
      'WASM (Node)': { step_gflops: stepRate('wasm_node'), ceiling: best('wasm_simd') },
      'WASM (Chromium)': { step_gflops: stepRate('wasm_chromium'), ceiling: best('chromium_simd') },
    };
    for (const [k, e] of Object.entries(results.efficiency)) {
      if (!Number.isFinite(e.step_gflops)) {
        delete results.efficiency[k];  // an engine not in this run
        continue;
      }
      e.share = e.step_gflops / e.ceiling;
      if (e.march_native) e.share_of_march_native = e.step_gflops / e.march_native;
    }
    results.cold = cold;
    results.site = site;
    results.machine.load_average_end = os.loadavg();
    // The targets compare every engine: only a run of all of them judges them.
    results.targets = GROUPS.every((g) => only.has(g)) ? targets(results.summary, results.matvec, cold, site) : null;
  } finally {
    await browser?.close();
    await server?.close();
    await compressing?.close();
  }
  const md = markdown(results);
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(out, 'results.md'), `${md}\n`);
  console.log(md);
  log(`wrote ${path.relative(ROOT, path.join(out, 'results.json'))} and results.md`);
}

// `--only paint`: the page's click to next paint alone (no engines, no baseline).
async function paintOnly(args, settings, out) {
  const model = at(args.model);
  if (!existsSync(model)) fail(`no model file ${args.model} (pass --model FILE)`);
  if (!existsSync(at('build-wasm/stepwise-wasm.js'))) fail('build-wasm/stepwise-wasm.js is missing: build first (without --no-build)');
  if (args.rounds) settings.paint.rounds = args.rounds;
  const info = machine();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let paint;
  try {
    paint = await paintRun(browser, { file: model }, out, settings.paint);
  } finally {
    await browser.close();
  }
  info.load_average_end = os.loadavg();
  const results = { settings: { quick: args.quick, only: [...args.only], paint: settings.paint }, machine: info, paint };
  const md = [`Machine: ${info.cpu}, ${info.cores} cores (shared: load average ${info.load_average_start.map((x) => x.toFixed(1)).join(' / ')} at start, ` +
    `${info.load_average_end.map((x) => x.toFixed(1)).join(' / ')} at end), ${info.memory_gib} GiB; Node ${info.node}, Chromium ${info.chromium}; ` +
    `model ${path.relative(ROOT, model)}.`, ...paintMarkdown(paint)].join('\n');
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(out, 'results.md'), `${md}\n`);
  console.log(md);
  log(`wrote ${path.relative(ROOT, path.join(out, 'results.json'))} and results.md`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
