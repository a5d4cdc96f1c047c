#!/usr/bin/env node
// The speed benchmark: Stepwise natively, in WebAssembly under Node and in headless Chromium, against
// ONNX Runtime (Web: Node and Chromium; native: onnxruntime-node) and PyTorch, each without and with a
// KV cache, on the same model and the same words, in one run.
// tools/bench/README.md explains what is measured and how.
//
//   node tools/bench/run.mjs [--model weights/g2p-cmudict.safetensors] [--quick] [--rounds N]
//                            [--out build/bench] [--no-build] [--only native,node,chromium,ort,torch,cold,paint]
//                            [--baseline REV | --no-baseline] [--base-dtype Q8|F16]
//
// Prints a markdown table and writes build/bench/results.json and results.md. --quick is a tiny
// setting (a few words, a small stand-in for the base-shaped model, one round) that only checks that
// every part still runs. --only runs only those engines (native always, but for `--only paint` and
// `--only cold`, or both, the page's measurements alone: click to paint, tools/bench/paint.mjs; cold start
// and the bytes of a first visit, tools/bench/cold.mjs). --baseline: the native
// stepwise_bench of git revision REV (default 9fe395b^, the release before the step probe), built in a
// worktree under build/bench-baseline/ and run in turns with this one; skipped in --quick unless given.
// --base-dtype: how the base-shaped model's weights are stored (default Q8, as the shipped models: Stepwise
// keeps them int8; F16: widened to float32 at load, the benchmark before int8 kernels).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { COLD_CHROMIUM_ARGS, coldMarkdown, measureColdStart } from './cold.mjs';
import { mergeRuns, measurePaint, paintMet, paintTable, PAINT_WORDS, SCENARIOS } from './paint.mjs';
import { serveFiles } from './server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const at = (...p) => path.resolve(ROOT, ...p);
const PYTHON = '/usr/bin/python3';  // Debian's, the one with torch (PLATFORM.md)
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', ...COLD_CHROMIUM_ARGS];  // (cold.mjs says why)

// ------------------------------------------------------------------------------------------- settings

// Engine groups for --only: `native` is stepwise_bench (with the baseline's, and the -march=native
// ceiling), the reference every other engine is checked against, so it always runs.
// `paint` is the page's click to next paint (paint.mjs), `cold` its cold start (cold.mjs); asked for alone
// (either or both), they run without the engines.
const GROUPS = ['native', 'node', 'chromium', 'ort', 'torch', 'cold', 'paint'];
// The previous release for --baseline: the commit before the step probe (9fe395b) landed.
const DEFAULT_BASELINE = '9fe395b^';
// The groups that measure the built page alone, with no engine benchmark (pageOnly).
const PAGE_ONLY = ['paint', 'cold'];

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
      args.only = new Set(names.every((x) => PAGE_ONLY.includes(x)) ? names : ['native', ...names]);
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
  ortNativeThreads: [1, 2],  // onnxruntime-node's intra-op threads, every round
  coldRuns: 5, warmupSeconds: 0.5,
  paint: { words: PAINT_WORDS, clicks: 20, rounds: 1, scenarios: ['click', 'key'] },
};
const QUICK = {
  small: { rounds: 1, words: 3, samples: 2, minSeconds: 0.002, positions: [1, 2, 4], maxLength: 0, matvecShapes: [],
    eigen: ['positions', 'greedy'], eigenPositions: [1] },
  large: { rounds: 1, words: 2, samples: 2, minSeconds: 0.002, positions: [1, 8], maxLength: 4, matvecShapes: [],
    eigen: ['positions'], eigenPositions: [1] },
  torchThreads: [1], otherThreadsWords: 0,
  ortNativeThreads: [1, 2],
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
    onnxruntime_node: JSON.parse(readFileSync(at('node_modules/onnxruntime-node/package.json'), 'utf8')).version,
  };
}

// ---------------------------------------------------------------------------------------- preparing

function build(only) {
  if (!only.has('native')) {  // --only paint / cold: the page needs only the WebAssembly build
    log('WebAssembly build (build-wasm/)');
    run('bash', ['tools/build_wasm.sh']);
    return;
  }
  log('native build (build/): stepwise_bench, stepwise_matvec_ceiling');
  run('cmake', ['-S', '.', '-B', 'build', '-DCMAKE_BUILD_TYPE=Release'], { capture: true });
  run('cmake', ['--build', 'build', '-j', String(os.cpus().length), '--target', 'stepwise_bench', 'stepwise_matvec_ceiling']);
  if (!['node', 'chromium', 'ort', 'cold', 'paint'].some((g) => only.has(g))) return;
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
    if (args.only.has('ort') && !newer(path.join(m.onnx, 'step_kv.onnx'), m.file, exporter, at('tools/bench/kv_decoder.py'))) {
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

  const limits = { bos: m.bos, eos: m.eos, maxNew: m.maxNew };
  if (only.has('ort')) {
    // Each: the teacher-forced pass, greedy without a cache (decoder.onnx over the whole prefix) and
    // with one (encoder_kv.onnx + step_kv.onnx).
    log(`${m.name}: ONNX Runtime Web under Node, without and with a KV cache`);
    r.ort_node = nodeJob({ kind: 'ort', onnx: m.onnx, cases, limits, timing, backend: { kind: 'web' } }, out);
    for (const threads of settings.ortNativeThreads) {
      log(`${m.name}: onnxruntime-node (CPU execution provider, ${threads} thread${threads > 1 ? 's' : ''}), without and with a KV cache`);
      r[`ort_native_${threads}`] = nodeJob({ kind: 'ort', onnx: m.onnx, cases, limits, timing, backend: { kind: 'node', threads } }, out);
    }
    if (page) {
      log(`${m.name}: ONNX Runtime Web in Chromium, without and with a KV cache`);
      r.ort_chromium = await inPage(page, (a) => window.bench.ort(a.graphs, a.cases, a.limits, a.timing), { graphs: `/onnx/${m.key}`, cases, limits, timing });
    }
  }

  if (only.has('torch')) {
    log(`${m.name}: PyTorch, 1 thread: eager without a cache, eager and TorchScript with a KV cache`);
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
  log(`${m.name}: PyTorch, ${threads.join(', ')} threads, each decoder (${settings.otherThreadsWords} words, one sample: slow under contention)`);
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

// The page built with model `m` into `dir` (tools/build_site.mjs): null, or why it cannot be.
function buildSite(m, dir) {
  if (!existsSync(at('tools/build_site.mjs')) || !existsSync(at('tools/serve.mjs'))) return 'no tools/build_site.mjs yet';
  try {
    run(process.execPath, [at('tools/build_site.mjs'), '--model', m.file, '--out', dir], { capture: true });
  } catch (error) {
    return `tools/build_site.mjs failed: ${error.message.split('\n')[0]}`;
  }
  return null;
}

// The page built with model `m` into `dir` and served from there under a sub-path (tools/serve.mjs):
// { server }, or { skipped: why } when it cannot be.
async function servedSite(m, dir) {
  const skipped = buildSite(m, dir);
  if (skipped) return { skipped };
  const { serve } = await import(at('tools/serve.mjs'));
  return { server: await serve({ root: dir, base: '/stepwise/', port: 0, log: false }) };
}

// Issue 13 §3: the page (built with this model into OUT/site-cold) opened cold, `runs` times over http
// (tools/serve.mjs, with its compression) and from file://, fresh context each: navigation -> Step
// enabled, then a real click -> the first token painted, and the bytes it received. cold.mjs says how.
async function coldRun(browser, m, out, runs) {
  const dir = path.join(out, 'site-cold');
  const skipped = buildSite(m, dir);
  if (skipped) return { skipped };
  log(`cold start: the page, ${runs} run(s) over http and from file://`);
  return { ways: await measureColdStart(browser, dir, { runs }), runs };
}

function coldLines(c) {
  if (!c) return [];
  if (c.skipped) return ['', `**Cold start**: not measured (${c.skipped}).`];
  return ['', `**Cold start** (issue 13 §3; ms; the page in headless Chromium, 1280 x 900, a fresh context per run, ${c.runs} run(s) each way, ` +
    'median (min–max); how it is measured: tools/bench/cold.mjs):', '', coldMarkdown(c.ways)];
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
    native: row('native', 'Stepwise native (g++ -O3; Eigen SSE2 for float32, int8 kernels SSE2/AVX2/AVX-512 picked at run time)', { step: true }),
    native_probe: { label: 'Stepwise native, step probe on (Generator::set_probe(true))', step: value('native', 'greedy.probe.us_per_step'),
      token: pick('native', 'greedy.probe.us_per_token') },
    ...(baseline?.binary && { baseline: row('baseline', `Stepwise native, previous release (${releaseName(baseline)}; no probe)`, { step: true, forward: false }) }),
    wasm_node: row('wasm_node', 'Stepwise WASM SIMD, Node (engine)', { step: true }),
    api_node: row('api_node', 'Stepwise WASM SIMD, Node (JS API)'),
    wasm_chromium: row('wasm_chromium', 'Stepwise WASM SIMD, Chromium (engine)', { step: true }),
    api_chromium: row('api_chromium', 'Stepwise WASM SIMD, Chromium (JS API)'),
    eigen_node: row('eigen_node', 'Stepwise plain Eigen-in-WASM, Node (engine)', { step: true, forward: false }),
  };
  // The baselines, by family; each member a row (its greedy decoding without or with a KV cache) and
  // where its µs per token is in a round (`token`: a path into the round, or fixed figures measured once).
  const families = { ort_web_node: [], ort_web_chromium: [], ort_native: [], torch: [] };
  const over = (keys) => across(rounds.map((r) => get(r, keys)));
  // base: where in a round (e.g. torch.threads.1); short: its name in the agreement line
  const baselineRow = (family, key, label, short, base, section, { forward = false } = {}) => {
    if (!get(rounds[0], `${base}.${section}`)) return;  // not in this run
    rows[key] = { label, token: over(`${base}.${section}.us_per_token`), tokens_s: over(`${base}.${section}.tokens_per_s`),
      words_s: over(`${base}.${section}.words_per_s`), ...(forward && { forward: over(`${base}.forward.us_per_word`) }) };
    families[family].push({ key, label, short, token: `${base}.${section}.us_per_token`, outputs: `${base}.${section}.outputs` });
  };
  const ortWeb = rounds[0].ort_node?.version ?? rounds[0].ort_chromium?.version;
  for (const [env, engine] of [['Node', 'ort_node'], ['Chromium', 'ort_chromium']]) {
    const family = `ort_web_${env.toLowerCase()}`;
    baselineRow(family, `${engine}`, `ONNX Runtime Web ${ortWeb} (WASM SIMD, 1 thread), ${env}, no cache`, `ORT Web ${env}, no cache`, engine, 'greedy',
      { forward: true });
    baselineRow(family, `${engine}_kv`, `ONNX Runtime Web ${ortWeb} (WASM SIMD, 1 thread), ${env}, KV cache`, `ORT Web ${env}, KV cache`, engine, 'greedy_kv');
  }
  for (const key of Object.keys(rounds[0]).filter((k) => k.startsWith('ort_native_'))) {
    const t = rounds[0][key].threads;
    const label = `ONNX Runtime ${rounds[0][key].version} native (onnxruntime-node, CPU EP, ${t} thread${t > 1 ? 's' : ''})`;
    baselineRow('ort_native', key, `${label}, no cache`, `ORT native ${t}t, no cache`, key, 'greedy', { forward: true });
    baselineRow('ort_native', `${key}_kv`, `${label}, KV cache`, `ORT native ${t}t, KV cache`, key, 'greedy_kv');
  }
  const torchVersion = rounds[0].torch?.torch;
  const torchKinds = [['greedy', 'eager, no cache'], ['greedy_kv', 'eager, KV cache'], ['greedy_kv_jit', 'TorchScript, KV cache']];
  for (const [section, kind] of torchKinds) {
    baselineRow('torch', `torch_1_${section}`, `PyTorch ${torchVersion} ${kind}, 1 thread`, `PyTorch ${kind}, 1t`, 'torch.threads.1', section,
      { forward: section === 'greedy' });
  }
  // Other thread counts: measured once, on fewer words (slow under contention): fixed figures.
  for (const [t, v] of Object.entries(torchThreads?.threads ?? {})) {
    for (const [section, kind] of torchKinds) {
      if (!v[section]) continue;
      const key = `torch_${t}_${section}`;
      const label = `PyTorch ${torchThreads.torch} ${kind}, ${t} threads (${torchThreads.words} words, 1 sample)`;
      rows[key] = { label, token: v[section].us_per_token, tokens_s: v[section].tokens_per_s, words_s: v[section].words_per_s,
        ...(section === 'greedy' && { forward: v.forward?.us_per_word }) };
      families.torch.push({ key, label, short: `PyTorch ${kind}, ${t}t`, fixed: v[section].us_per_token, fixedOutputs: v[section].outputs });
    }
  }
  // Ratios inside each round, then their median and range over rounds (drift in the machine's load
  // cancels); `best`: the ratio of the two engines' fastest samples over all rounds, the least disturbed.
  // `a` may also be fixed figures ({median, min, max}: measured once, not per round).
  const ratio = (a, b) => {
    const valueOf = (x) => (x != null && typeof x === 'object' ? x.median : x);
    const read = (r, where) => (typeof where === 'string' ? get(r, where) : where);
    const perRound = rounds.map((r) => valueOf(read(r, a)) / valueOf(get(r, b))).filter(Number.isFinite);
    const fastest = (where) => Math.min(...rounds.map((r) => read(r, where)?.min).filter(Number.isFinite));
    const best = typeof read(rounds[0], a) === 'object' ? fastest(a) / fastest(b) : null;
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
  // The best of each family: the member with the lowest µs per generated token (median over rounds).
  const best = Object.fromEntries(Object.entries(families).filter(([, list]) => list.length).map(([family, list]) => {
    const medianOf = (x) => (x.fixed ? x.fixed.median : rows[x.key].token?.median);
    const winner = list.filter((x) => Number.isFinite(medianOf(x))).sort((x, y) => medianOf(x) - medianOf(y))[0];
    return [family, winner && { key: winner.key, label: winner.label, token: winner.fixed ?? winner.token, us_per_token: medianOf(winner) }];
  }).filter(([, v]) => v));
  // Stepwise against the best of each family, in µs per generated token, ratios per round.
  const stepwise = { native: 'native', wasm_node: 'wasm_node', api_node: 'api_node', wasm_chromium: 'wasm_chromium', api_chromium: 'api_chromium' };
  const fair = Object.fromEntries(Object.entries(stepwise).filter(([k]) => rounds[0][k]).map(([k, engine]) => {
    const against = (family) => (best[family] ? ratio(best[family].token, `${engine}.greedy.us_per_token`) : null);
    const web = k === 'native' ? null : k.endsWith('chromium') ? 'ort_web_chromium' : 'ort_web_node';
    return [k, { ort_web: web && against(web), ort_web_family: web, ort_native: against('ort_native'), torch: against('torch') }];
  }));
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
      ort_over_api_forward_node: ratio('ort_node.forward.us_per_word', 'api_node.forward.us_per_word'),
      ort_over_wasm_forward_node: ratio('ort_node.forward.us_per_word', 'wasm_node.forward.us_per_word'),
      native_over_baseline_token: ratio('native.greedy.us_per_token', 'baseline.greedy.us_per_token'),
      native_over_baseline_step: ratio('native.greedy.us_per_step', 'baseline.greedy.us_per_step'),
      probe_over_off_token: ratio('native.greedy.probe.us_per_token', 'native.greedy.us_per_token'),
      probe_over_off_step: ratio('native.greedy.probe.us_per_step', 'native.greedy.us_per_step'),
    },
    best,
    fair,
    agreement: {
      words: m.words.length,
      wasm_node: agree(first.wasm_node?.greedy?.outputs), api_node: agree(first.api_node?.greedy?.outputs),
      wasm_chromium: agree(first.wasm_chromium?.greedy?.outputs),
      // every baseline, without and with a cache (the 2-thread PyTorch runs: their first words)
      baselines: Object.values(families).flat().map((x) => {
        const outputs = x.outputs ? get(first, x.outputs) : x.fixedOutputs;
        return { key: x.key, label: x.short, agree: agree(outputs), of: outputs?.length };
      }).filter((x) => x.agree != null),
      baseline: agree(first.baseline?.greedy?.outputs),
      // every round: the probed conversions chose the same tokens as the unprobed ones
      probe: rounds.every((r) => r.native.greedy.probe?.outputs_equal !== false) ? m.words.length : 0,
      forward_logits_max_abs_diff_ort_vs_stepwise: maxDiff(first.ort_node?.first_logits, first.api_node?.first_logits),
      // the cached step graph fed the first word's teacher-forced tokens one by one, against forward.onnx (largest over backends)
      kv_logits_max_abs_diff_vs_forward: Math.max(...['ort_node', 'ort_chromium', ...Object.keys(first).filter((k) => k.startsWith('ort_native_'))]
        .map((k) => first[k]?.kv_logits_max_abs_diff).filter(Number.isFinite)),
    },
  };
}

function matvecSummary(models, rounds, ceiling) {
  const shapes = new Map();
  for (const m of models) {
    for (const r of rounds[m.key]) {
      for (const [engine, result] of [['native', r.native], ['wasm', r.wasm_node], ['chromium', r.wasm_chromium]]) {
        // The int8 kernel the engine runs, as it names it ("eigen + q8-avx512": the best tier this CPU has,
        // unless STEPWISE_MAX_ISA caps it; "wasm-simd128 + q8-simd128").
        const engineQ8 = result?.kernels?.split(' + ')[1];
        for (const entry of result?.matvec ?? []) {
          const key = `${entry.rows}x${entry.cols}`;
          if (!shapes.has(key)) shapes.set(key, { rows: entry.rows, cols: entry.cols, native_eigen: [], wasm_eigen: [], wasm_simd: [], chromium_simd: [], ratio_node: [],
            native_q8: [], wasm_q8: [], chromium_q8: [] });
          const s = shapes.get(key);
          const q8 = entry.kernels[engineQ8];
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

// The best baseline of a family, as the tables name it.
const bestName = (s, family) => s.best?.[family]?.label ?? 'not measured';

// "1.23× (rounds 1.1–1.4; best 1.2×)": a ratio's median over rounds, its range, the ratio of fastest samples.
const ratioText = (r, digits = 1) => (r ? `${fmt(r.median, digits)}× (rounds ${fmt(r.min, digits)}–${fmt(r.max, digits)}` +
  (r.best != null ? `; fastest samples ${fmt(r.best, digits)}×` : '') + ')' : '–');

function targets(summary, matvec, cold, baseDtype) {
  const small = summary.small;
  const large = summary.large;
  const shapesOf = (config) => new Set([[3 * config.d_model, config.d_model], [config.d_model, config.d_model], [config.d_ff, config.d_model],
    [config.d_model, config.d_ff], [config.target_vocab, config.d_model]].map(([r, c]) => `${r}x${c}`));
  const smallShapes = shapesOf(small.model);
  const simdSmall = matvec.filter((m) => smallShapes.has(m.shape)).map((m) => m.simd_over_eigen).filter(Number.isFinite);
  const simdAll = matvec.map((m) => m.simd_over_eigen).filter(Number.isFinite);
  const pos64 = large.positions.wasm_chromium[64]?.us;
  const native64 = large.positions.native[64]?.us;
  // cold start: the slower of the two ways (http, file://), medians; bytes: everything a first visit over
  // http receives, what the page loads after the first token included
  const ways = cold && !cold.skipped ? cold.ways : null;
  const coldMs = ways ? Math.max(ways.http.first_token.median, ways.file.first_token.median) : NaN;
  const coldCell = (w) => `${fmt(w.first_token.median)} (${fmt(w.first_token.min)}–${fmt(w.first_token.max)}) ms, Step enabled at ${fmt(w.ready.median)} ms`;
  const served = ways?.http.files.filter((f) => f.encoded > 0) ?? [];
  const r = (x) => x?.median;
  const list = [
    ['WASM ÷ native step in Chromium ≤ 1.3× (same model, the native build as shipped: no -march=native)', '≤ 1.3×',
      r(small.ratios.wasm_chromium_over_native_step), (v) => v <= 1.3,
      `G2P, mean step of greedy decoding, Chromium: ${ratioText(small.ratios.wasm_chromium_over_native_step, 2)}; Node ${ratioText(small.ratios.wasm_node_over_native_step, 2)}; ` +
        `base-shaped, Chromium: ${ratioText(large.ratios.wasm_chromium_over_native_step, 2)}, Node ${ratioText(large.ratios.wasm_node_over_native_step, 2)}`],
    ['WASM SIMD matrix–vector ≥ 4× plain Eigen-in-WASM', '≥ 4×', median(simdSmall), (v) => v >= 4,
      `median over the G2P model's ${simdSmall.length} shapes (lowest ${fmt(Math.min(...simdSmall), 1)}×); all ${simdAll.length} shapes, base-shaped included: ` +
        `median ${fmt(median(simdAll), 1)}×, lowest ${fmt(Math.min(...simdAll), 1)}×; whole greedy step: ${ratioText(small.ratios.eigen_over_simd_step_node)} faster than the plain Eigen-in-WASM build`],
    // Issue 13: against the best of each family (with or without a KV cache, its best thread count).
    ['per generated token ≥ 4× faster than the best ONNX Runtime Web (JS API in Chromium)', '≥ 4×', r(small.fair.api_chromium?.ort_web), (v) => v >= 4,
      `G2P, against ${bestName(small, 'ort_web_chromium')}: ${ratioText(small.fair.api_chromium?.ort_web)}; engine in Chromium ${ratioText(small.fair.wasm_chromium?.ort_web)}; ` +
        `in Node, against ${bestName(small, 'ort_web_node')}: JS API ${ratioText(small.fair.api_node?.ort_web)}, engine ${ratioText(small.fair.wasm_node?.ort_web)}; ` +
        `base-shaped, JS API in Chromium ${ratioText(large.fair.api_chromium?.ort_web)}`],
    ['per generated token ≥ 10× faster than the best PyTorch (native)', '≥ 10×', r(small.fair.native?.torch), (v) => v >= 10,
      `G2P, against ${bestName(small, 'torch')}: ${ratioText(small.fair.native?.torch)}; base-shaped ${ratioText(large.fair.native?.torch)} (${bestName(large, 'torch')}); ` +
        `native vs the best onnxruntime-node (${bestName(small, 'ort_native')}): ${ratioText(small.fair.native?.ort_native)}`],
    ['per generated token ≥ 4× faster than the best PyTorch (WASM)', '≥ 4×', r(small.fair.api_chromium?.torch), (v) => v >= 4,
      `G2P, Stepwise's JS API in Chromium: ${ratioText(small.fair.api_chromium?.torch)}; engine in Node ${ratioText(small.fair.wasm_node?.torch)}; ` +
        `base-shaped ${ratioText(large.fair.api_chromium?.torch)}`],
    ['teacher-forced forward pass not slower than ONNX Runtime Web', '≥ 1×', r(small.ratios.ort_over_api_forward_node), (v) => v >= 1,
      `G2P, JS API vs ORT Web, Node: ${ratioText(small.ratios.ort_over_api_forward_node, 2)}; base-shaped, engine: ${ratioText(large.ratios.ort_over_wasm_forward_node, 2)}`],
    ['base-shaped model: decoder step at position 64, native ≤ 2.5 ms', '≤ 2.5 ms', native64?.median / 1000, (v) => v <= 2.5,
      `${fmt(native64?.median / 1000, 2)} ms (fastest sample ${fmt(native64?.min / 1000, 2)} ms; ${baseDtype} weights, kept as ${baseDtype === 'Q8' ? 'int8' : 'float32'} in memory)`],
    ['base-shaped model: decoder step at position 64, WASM in Chromium ≤ 4 ms', '≤ 4 ms', pos64?.median / 1000, (v) => v <= 4,
      `${fmt(pos64?.median / 1000, 2)} ms (fastest sample ${fmt(pos64?.min / 1000, 2)} ms; Node ${fmt(large.positions.wasm_node[64]?.us?.median / 1000, 2)} ms)`],
    ['cold start to first painted token, http and file:// (navigation → Step enabled, then a click → its token painted)', '≤ 400 ms', coldMs, (v) => v <= 400,
      ways ? `median of ${ways.http.first_token.n} runs each, fresh context: http ${coldCell(ways.http)}; file:// ${coldCell(ways.file)} (tools/bench/cold.mjs)` : `not measured: ${cold?.skipped ?? 'no cold run'}`],
    ['bytes a first visit transfers, as served (tools/serve.mjs, gzip as a static host sends)', '≤ 1.5 MB', ways ? ways.http.bytes_settled / 1e6 : NaN, (v) => v <= 1.5,
      ways ? `encoded bodies received, median of runs: ${fmt(ways.http.bytes_first_token / 1e6, 3)} MB up to the first painted token, ` +
        `${fmt(ways.http.bytes_settled / 1e6, 3)} MB with what it loads afterwards (${served.map((f) => `${f.name} ${fmt(f.encoded / 1e3)} kB`).join(', ')})` : '–'],
  ];
  return list.map(([name, goal, value, test, detail]) => ({ target: name, goal, value, met: Number.isFinite(value) ? test(value) : null, detail }));
}

function markdown(results) {
  const { summary, matvec, machine: mc, targets: tg } = results;
  const lines = [];
  lines.push(`Machine: ${mc.cpu}, ${mc.cores} cores (shared: load average ${mc.load_average_start.map((x) => x.toFixed(1)).join(' / ')} at start, ` +
    `${mc.load_average_end.map((x) => x.toFixed(1)).join(' / ')} at end), ${mc.memory_gib} GiB; Node ${mc.node}, Chromium ${mc.chromium}, ` +
    `g++ ${mc.gcc}, Emscripten ${mc.emscripten}, onnxruntime-web ${mc.onnxruntime_web}, onnxruntime-node ${mc.onnxruntime_node}. Every engine single-threaded unless stated; ` +
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
  lines.push(...fairTable(summary));
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
  lines.push(...coldLines(results.cold));
  lines.push(...paintMarkdown(results.paint));
  if (tg) {
    lines.push('', '**Targets** (issue 5, with issue 13\'s: ONNX Runtime Web and PyTorch against the best of each family, the step and cold-start rows):', '', '| target | goal | measured | met | how |', '|---|---|---|---|---|');
    for (const t of tg) lines.push(`| ${t.target} | ${t.goal} | ${fmt(t.value, 2)} | ${t.met == null ? '–' : t.met ? 'yes' : '**no**'} | ${t.detail} |`);
  } else {
    lines.push('', `**Targets**: not judged (this run had only: ${results.settings.only.join(', ')}).`);
  }
  const a = summary.small.agreement;
  const agreed = [['wasm_node', 'WASM Node'], ['wasm_chromium', 'Chromium'], ['api_node', 'JS API'],
    ['baseline', 'previous release'], ['probe', 'native, probe on']].filter(([k]) => a[k] != null).map(([k, label]) => `${a[k]}/${a.words} (${label})`)
    .concat(a.baselines.map((x) => `${x.agree}/${x.of} (${x.label})`));
  lines.push('', `Agreement (${summary.small.model.name}): greedy outputs equal to the native build's for ` + (agreed.join(', ') || '–') +
    (a.forward_logits_max_abs_diff_ort_vs_stepwise != null ? `; teacher-forced logits, ONNX Runtime vs Stepwise: max |diff| ${a.forward_logits_max_abs_diff_ort_vs_stepwise.toExponential(1)}` : '') +
    (Number.isFinite(a.kv_logits_max_abs_diff_vs_forward) ? `; the KV-cached step graph, step by step, vs forward.onnx: max |diff| ${a.kv_logits_max_abs_diff_vs_forward.toExponential(1)}` : '') + '.');
  return lines.join('\n');
}

// Issue 13 §1: Stepwise against the best baseline of each family (ONNX Runtime Web in the same
// environment, onnxruntime-node, PyTorch), each family's best chosen over its members (without or with
// a KV cache, eager or TorchScript, thread counts) by median µs per generated token.
function fairTable(summary) {
  const lines = ['', '**Against the best baseline of each family** (µs per generated token; the baseline\'s over Stepwise\'s, per round: ' +
    'median (min–max over rounds); fastest samples in brackets):'];
  const cellOf = (x) => (x ? `${fmt(x.median, 1)}× (${fmt(x.min, 1)}–${fmt(x.max, 1)}) [${fmt(x.best, 1)}×]` : '–');
  for (const key of ['small', 'large']) {
    const s = summary[key];
    if (!Object.keys(s.best).length) continue;
    const best = (family) => (s.best[family] ? `${s.best[family].label}: ${fmt(s.best[family].us_per_token)} µs` : 'not measured');
    lines.push('', `${s.model.name}: best ONNX Runtime Web, Node — ${best('ort_web_node')}; in Chromium — ${best('ort_web_chromium')}; ` +
      `best ONNX Runtime native — ${best('ort_native')}; best PyTorch — ${best('torch')}.`, '',
    '| Stepwise | vs best ONNX Runtime Web (same environment) | vs best ONNX Runtime native | vs best PyTorch |', '|---|---|---|---|');
    const names = { native: 'native', wasm_node: 'WASM, Node (engine)', api_node: 'WASM, Node (JS API)', wasm_chromium: 'WASM, Chromium (engine)',
      api_chromium: 'WASM, Chromium (JS API)' };
    for (const [k, f] of Object.entries(s.fair)) lines.push(`| ${names[k]} | ${cellOf(f.ort_web)} | ${cellOf(f.ort_native)} | ${cellOf(f.torch)} |`);
  }
  return lines;
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
  if (args.rounds) for (const k of ['small', 'large']) settings[k].rounds = args.rounds;
  const out = at(args.out);
  mkdirSync(out, { recursive: true });
  const only = args.only;
  if (args.build) build(only);
  if (!only.has('native')) return pageOnly(args, settings, out);
  const browsing = only.has('chromium') || only.has('ort') || only.has('cold') || only.has('paint');
  const needed = ['build/tools/bench/stepwise_bench', ...(['node', 'chromium', 'ort', 'cold', 'paint'].some((g) => only.has(g)) ?
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
    '/onnx/small/': models[0].onnx,
    '/onnx/large/': models[1].onnx,
    '/ort/': at('node_modules/onnxruntime-web/dist'),
  };
  let server = null, browser = null, context = null;
  if (browsing) {
    const { chromium } = await import('playwright-core');
    server = await serveFiles(routes);
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
    const cold = only.has('cold') ? await coldRun(browser, models[0], out, settings.coldRuns) : null;
    if (only.has('paint')) results.paint = await paintRun(browser, models[0], out, settings.paint);

    for (const m of models) {
      results.models[m.key] = { file: path.relative(ROOT, m.file), words: m.words, rounds: byModel[m.key], torch_threads: torchThreads[m.key] };
      results.summary[m.key] = summarize(m, byModel[m.key], torchThreads[m.key], baseline);
    }
    results.matvec = matvecSummary(models, byModel, ceiling);
    results.matvec_ceiling = ceiling;
    // The engine's achieved rate per step against the best matrix-vector rate of the same build, float32
    // or int8 (the models are Q8: natively every matrix runs int8, in WebAssembly the small ones float32).
    const best = (...keys) => Math.max(...keys.flatMap((k) => results.matvec.map((m) => m[k])).filter(Number.isFinite));
    const stepRate = (engine) => median(['small', 'large'].flatMap((k) => Object.values(results.summary[k].positions[engine]).map((p) => p.gflops)));
    results.efficiency = {
      native: { step_gflops: stepRate('native'), ceiling: best('native_eigen', 'native_q8'), march_native: best('native_march_native') },
      'WASM (Node)': { step_gflops: stepRate('wasm_node'), ceiling: best('wasm_simd', 'wasm_q8') },
      'WASM (Chromium)': { step_gflops: stepRate('wasm_chromium'), ceiling: best('chromium_simd', 'chromium_q8') },
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
    results.machine.load_average_end = os.loadavg();
    // The targets compare every engine: only a run of all of them judges them.
    results.targets = GROUPS.every((g) => only.has(g)) ? targets(results.summary, results.matvec, cold, args.baseDtype) : null;
  } finally {
    await browser?.close();
    await server?.close();
  }
  const md = markdown(results);
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(out, 'results.md'), `${md}\n`);
  console.log(md);
  log(`wrote ${path.relative(ROOT, path.join(out, 'results.json'))} and results.md`);
}

// `--only paint`, `--only cold` (or both): the page's click to next paint, its cold start, alone (no
// engines, no baseline).
async function pageOnly(args, settings, out) {
  const model = at(args.model);
  if (!existsSync(model)) fail(`no model file ${args.model} (pass --model FILE)`);
  if (!existsSync(at('build-wasm/stepwise-wasm.js'))) fail('build-wasm/stepwise-wasm.js is missing: build first (without --no-build)');
  if (args.rounds) settings.paint.rounds = args.rounds;
  const info = machine();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let paint = null, cold = null;
  try {
    if (args.only.has('cold')) cold = await coldRun(browser, { file: model }, out, settings.coldRuns);
    if (args.only.has('paint')) paint = await paintRun(browser, { file: model }, out, settings.paint);
  } finally {
    await browser.close();
  }
  info.load_average_end = os.loadavg();
  const results = { settings: { quick: args.quick, only: [...args.only], paint: settings.paint, coldRuns: settings.coldRuns }, machine: info, cold, paint };
  const md = [`Machine: ${info.cpu}, ${info.cores} cores (shared: load average ${info.load_average_start.map((x) => x.toFixed(1)).join(' / ')} at start, ` +
    `${info.load_average_end.map((x) => x.toFixed(1)).join(' / ')} at end), ${info.memory_gib} GiB; Node ${info.node}, Chromium ${info.chromium}; ` +
    `model ${path.relative(ROOT, model)}.`, ...coldLines(cold), ...paintMarkdown(paint)].join('\n');
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(out, 'results.md'), `${md}\n`);
  console.log(md);
  log(`wrote ${path.relative(ROOT, path.join(out, 'results.json'))} and results.md`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
