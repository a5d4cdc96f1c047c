// The page: wires the controls to a DecoderSession (web/session.js) and draws its trace. Knows nothing
// about the WebAssembly module beyond web/stepwise.js.
//
// For tests and the curious, `window.stepwiseState` is a read-only snapshot of what the page shows
// (the matrices drawn, the tokens, the message); reading it changes nothing.
import * as Stepwise from './stepwise.js';
import { DecoderSession, softmax } from './session.js';
import { Heatmap, drawLegend } from './heatmap.js';
import { DecoderDiagram } from './diagram.js';
import { VIEWS, viewTitle, viewExplanation, headName } from './views.js';
import { renderDistribution, renderBeams } from './panels.js';
import { builtinModel, engineBinary, testWords } from './assets.js';
import { el, showTooltip, hideTooltip } from './tooltip.js';
import { viridisCss, inkOn } from './colormap.js';

const $ = (id) => document.getElementById(id);
const EXAMPLES = ['phoenix', 'knight', 'xylophone', 'through', 'queue'];
const SPEEDS_MS = [1400, 800, 450, 200, 60];  // pause between steps while playing, slow to fast
const MAX_MODEL_BYTES = 512 * 1024 * 1024;
const fmt = (x) => (x === 0 ? '0' : Math.abs(x) >= 0.001 ? x.toPrecision(6) : x.toExponential(3));

const state = {
  models: [],             // { id, name, model, builtin }
  modelId: 0,
  model: null,
  session: null,
  word: '',
  words: new Map(),       // held-out test words -> dictionary pronunciations
  target: { text: '', source: '', word: null },  // what teacher forcing feeds, for which word
  view: 'self',
  selection: {},          // view -> { layer, head } (head: number or 'mean')
  selectedRow: null,      // null: follow the latest step
  playing: false,
  playEpoch: 0,
  timer: 0,
  loadEpoch: 0,
  loading: '',
  message: null,          // { text, kind: 'error' | 'info' }
  lastPointerDown: 0,
};

// ---------------------------------------------------------------- settings

function numberFrom(id) {
  const input = $(id);
  return input.value.trim() === '' ? NaN : Number(input.value);
}

function readSettings() {
  return {
    mode: document.querySelector('input[name="mode"]:checked').value,
    strategy: document.querySelector('input[name="strategy"]:checked').value,
    temperature: numberFrom('temperature'),
    topK: numberFrom('top-k'),
    topP: numberFrom('top-p'),
    seed: numberFrom('seed'),
    beamWidth: numberFrom('beam-width'),
    causal: $('causal').checked,
  };
}

// ---------------------------------------------------------------- messages

function showMessage(text, kind = 'error') {
  state.message = { text, kind };
  renderMessage();
}

function clearMessage() {
  state.message = null;
  renderMessage();
}

function messageOf(error) {
  if (error instanceof Stepwise.StepwiseError) return error.message;
  console.error(error);  // not an engine message: a bug worth seeing in the console
  return `Something went wrong: ${error?.message ?? error}`;
}

function renderMessage() {
  const box = $('message');
  const m = state.message;
  box.hidden = !m;
  $('word').setAttribute('aria-invalid', String(m?.kind === 'error' && !state.session));
  if (!m) return;
  box.className = `message${m.kind === 'info' ? ' info' : ''}`;
  box.replaceChildren(m.text);
}

// ---------------------------------------------------------------- models

function addModel(name, model, builtin) {
  const id = state.models.length ? Math.max(...state.models.map((m) => m.id)) + 1 : 1;
  state.models.push({ id, name, model, builtin });
  // Keep the built-in model and the two latest of the user's; free the rest.
  const user = state.models.filter((m) => !m.builtin);
  for (const old of user.slice(0, Math.max(0, user.length - 2))) {
    if (old.id === state.modelId) continue;
    old.model.dispose();
    state.models = state.models.filter((m) => m !== old);
  }
  renderModelSelect();
  return id;
}

function renderModelSelect() {
  const select = $('model-select');
  select.replaceChildren(...state.models.map((m) => {
    const c = m.model.config;
    const size = m.model.parameters >= 1e5 ? `${(m.model.parameters / 1e6).toFixed(2)}M` : `${(m.model.parameters / 1e3).toFixed(1)}k`;
    const label = m.builtin ? `${c.name ?? m.name} · ${size} params` : `${m.name} · ${size} params · your file`;
    return el('option', { value: m.id }, label);
  }));
  select.value = String(state.modelId);
  select.disabled = state.models.length === 0 || Boolean(state.loading);
}

/** True when the model can read `word`: every symbol in its source vocabulary, and not too many. */
function readable(model, word) {
  const c = model.config.source_vocab;
  const vocabulary = new Set(model.sourceTokens);
  const text = c.lowercase ? word.replace(/[A-Z]/g, (ch) => ch.toLowerCase()) : word;
  const symbols = c.split === 'space' ? text.split(/\s+/).filter(Boolean) : [...text];
  return symbols.length > 0 && symbols.length <= model.config.max_source_len && symbols.every((x) => vocabulary.has(x));
}

function examplesFor(model) {
  const words = EXAMPLES.filter((w) => readable(model, w));
  if (words.length) return words;
  // A model with another alphabet (the test fixtures read a-h): make a few words from its letters.
  const letters = model.sourceTokens.filter((t) => [...t].length === 1 && /\p{L}/u.test(t));
  const max = Math.min(model.config.max_source_len, 6);
  return [3, 4, 5, 6].filter((n) => n <= max && letters.length).map((n, k) =>
    Array.from({ length: n }, (_, i) => letters[(i * (k + 2) + k) % letters.length]).join(''));
}

function selectModel(id) {
  const entry = state.models.find((m) => m.id === id);
  if (!entry) return;
  stopPlaying();
  disposeSession();
  state.modelId = id;
  state.model = entry.model;
  const c = entry.model.config;
  state.selection = {};
  for (const view of ['self', 'cross']) state.selection[view] = { layer: c.n_decoder_layers - 1, head: 'mean' };
  state.selection.encoder = { layer: Math.max(0, (c.n_encoder_layers || 1) - 1), head: 'mean' };
  renderModelSelect();
  renderExamples();
  diagram.build(c);
  $('norm-note').textContent = c.norm_first
    ? 'Pre-norm, as most models since: x + Sublayer(LayerNorm(x)). The paper normalises after the residual sum.'
    : 'Post-norm, as in the paper: LayerNorm(x + Sublayer(x)).';
  let notice = null;
  if (!readable(entry.model, state.word)) {
    const first = examplesFor(entry.model)[0] ?? '';
    if (state.word) notice = `“${shorten(state.word, 40)}” has characters this model does not read; showing “${first}” instead.`;
    setWord(first);
  }
  rebuild({ toEnd: true });
  if (notice) showMessage(notice, 'info');
}

async function loadUserModel(file) {
  const epoch = ++state.loadEpoch;
  state.loading = file.name;
  stopPlaying();
  showMessage(`Loading ${file.name}…`, 'info');
  renderControls();
  try {
    if (file.size > MAX_MODEL_BYTES) {
      throw new Stepwise.StepwiseError(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MiB is more than this page loads (${MAX_MODEL_BYTES / 2 ** 20} MiB)`);
    }
    await engine;
    const model = await Stepwise.load(file, { name: file.name });
    if (epoch !== state.loadEpoch) {
      model.dispose();  // another file was chosen meanwhile
      return;
    }
    if (!model.encoderDecoder) {
      model.dispose();
      throw new Stepwise.StepwiseError(`${file.name} is a decoder-only model; this page shows encoder–decoder models (see weights/README.md)`);
    }
    const id = addModel(file.name, model, false);
    state.loading = '';
    selectModel(id);
    if (!state.message) showMessage(`Loaded ${file.name}: ${model.config.name ?? 'a model'} with ${model.parameters.toLocaleString('en')} parameters.`, 'info');
  } catch (error) {
    if (epoch === state.loadEpoch) showMessage(`Could not load that model. ${messageOf(error)}`);
  } finally {
    if (epoch === state.loadEpoch) {
      state.loading = '';
      $('model-file').value = '';
      renderControls();
      renderModelSelect();
    }
  }
}

// ---------------------------------------------------------------- the session

function disposeSession() {
  state.session?.dispose();
  state.session = null;
}

function setWord(word) {
  state.word = word;
  $('word').value = word;
  state.target = { text: '', source: '', word: null };
}

// The reference fed in teacher-forcing mode: what was chosen for this word (typed, or a preset), else
// the first preset: the dictionary's pronunciation of a held-out word, else the model's own output.
function teacherTarget() {
  const t = state.target;
  if (t.word === state.word && t.text) return t.text;
  const preset = targetPresets()[0];
  Object.assign(t, { text: preset.text(), source: preset.source, word: state.word });
  return t.text;
}

// What teacher forcing can feed, besides what the user types.
function targetPresets() {
  const presets = [];
  const dictionary = state.words.get(state.word.toLowerCase());
  if (dictionary && dictionary[0].split(' ').every((p) => state.model.targetTokens.includes(p))) {
    presets.push({ label: 'feed the dictionary’s', source: 'the dictionary’s pronunciation (CMUdict)', text: () => dictionary[0] });
  }
  presets.push({
    label: 'feed the model’s own output',
    source: 'the model’s own greedy output',
    text: () => {
      const run = state.model.start(state.word, { strategy: 'greedy' });
      try {
        return run.complete();
      } finally {
        run.dispose();
      }
    },
  });
  return presets;
}

/** Starts the current word afresh and replays `steps` steps (or to the end). */
function rebuild({ steps = 0, toEnd = false } = {}) {
  disposeSession();
  state.selectedRow = null;
  clearMessage();
  if (!state.model) return render();
  if (state.word.trim() === '') {
    stopPlaying();
    return render();
  }
  try {
    const settings = readSettings();
    if (settings.mode === 'teacher') settings.target = teacherTarget();
    const session = new DecoderSession(state.model, state.word, settings);
    state.session = session;
    while (settings.mode === 'steps' && !session.done && (toEnd || session.steps < steps)) session.step();
  } catch (error) {
    disposeSession();
    stopPlaying();
    showMessage(messageOf(error));
  }
  render();
}

function stepOnce() {
  const s = state.session;
  if (!s || s.trace.mode !== 'steps' || s.done) return false;
  try {
    s.step();
  } catch (error) {
    stopPlaying();
    showMessage(messageOf(error));
    return false;
  }
  state.selectedRow = null;
  return true;
}

function step() {
  if (state.playing) stopPlaying();
  if (stepOnce()) render();
}

function runToEnd() {
  stopPlaying();
  const s = state.session;
  if (!s || s.trace.mode !== 'steps') return;
  while (!s.done && stepOnce());
  render();
}

function reset() {
  stopPlaying();
  hideTooltip();
  rebuild({ steps: 0 });
}

function play() {
  if (!state.session || state.session.trace.mode !== 'steps') return;
  if (state.session.done) rebuild({ steps: 0 });
  if (!state.session) return;
  state.playing = true;
  const epoch = ++state.playEpoch;
  renderControls();
  const tick = () => {
    // Yield to the browser before each step so the page paints and stays responsive.
    requestAnimationFrame(() => {
      if (!state.playing || epoch !== state.playEpoch) return;
      if (stepOnce()) render();
      if (!state.session || state.session.done || !state.playing) {
        stopPlaying();
        return;
      }
      state.timer = setTimeout(tick, SPEEDS_MS[Number($('speed').value)] ?? 400);
    });
  };
  tick();
}

function stopPlaying() {
  if (!state.playing) return;
  state.playing = false;
  state.playEpoch++;
  clearTimeout(state.timer);
  renderControls();
}

function togglePlay() {
  if (state.playing) stopPlaying();
  else play();
}

// Settings changed: decode again up to the same step, so the views stay where the learner was.
function settingsChanged() {
  const steps = state.session?.steps ?? 0;
  const wasDone = state.session?.done ?? false;
  rebuild(wasDone ? { toEnd: true } : { steps });
}

// ---------------------------------------------------------------- views: data

function currentRow() {
  const t = state.session?.trace;
  if (!t || t.queries.length === 0) return -1;
  const latest = t.queries.length - 1;
  return state.selectedRow !== null && state.selectedRow <= latest ? state.selectedRow : latest;
}

function meanOf(heads) {
  return heads[0].map((row, i) => {
    const out = new Float32Array(row.length);
    for (const head of heads) for (let j = 0; j < row.length; j++) out[j] += (head[i][j] ?? 0) / heads.length;
    return out;
  });
}

// Rows of one head (or the mean of a layer's heads) of a view, padded with zeros to `width` columns (a
// stepped row i has only its i + 1 visible keys).
function rowsOf(source, layer, head, width) {
  const padded = (rows) => rows.map((row) => pad(row, width));
  return head === 'mean' ? meanOf(source[layer].map(padded)) : padded(source[layer][head]);
}

function pad(row, width) {
  if (row.length === width) return row;
  const out = new Float32Array(width);
  out.set(row.subarray(0, Math.min(width, row.length)));
  return out;
}

/** What a view shows for a layer/head: the matrix, its axes and its masked cells. */
function viewData(view, { layer, head } = {}) {
  const t = state.session?.trace;
  if (!t) return null;
  const n = t.queries.length;
  const S = t.input.length;
  const causal = t.causal;
  const notes = t.produced.map((p) => `→ ${p}`);
  switch (view) {
    case 'mask':
      return {
        kind: 'mask', rows: Array.from({ length: n }, (_, i) => Float32Array.from({ length: n }, (_, j) => (causal && j > i ? -Infinity : 0))),
        nCols: n, rowLabels: t.queries, colLabels: t.queries, rowNotes: null, masked: (i, j) => causal && j > i,
        rowAxis: 'query', colAxis: 'key →',
      };
    case 'self':
      return {
        kind: 'weights', rows: n ? rowsOf(t.self, layer, head, n) : [], nCols: n, rowLabels: t.queries, colLabels: t.queries,
        rowNotes: notes, masked: (i, j) => causal && j > i, rowAxis: 'query', colAxis: 'key →',
      };
    case 'cross':
      return {
        kind: 'weights', rows: n ? rowsOf(t.cross, layer, head, S) : [], nCols: S, rowLabels: t.queries, colLabels: t.input,
        rowNotes: notes, masked: () => false, rowAxis: 'query', colAxis: 'letter →',
      };
    case 'encoder':
      return {
        kind: 'weights', rows: rowsOf(t.encoder, layer, head, S), nCols: S, rowLabels: t.input, colLabels: t.input,
        rowNotes: null, masked: () => false, rowAxis: 'letter', colAxis: 'letter →',
      };
    default:
      return null;
  }
}

function layersOf(view) {
  const c = state.model.config;
  return view === 'encoder' ? c.n_encoder_layers : c.n_decoder_layers;
}

// ---------------------------------------------------------------- rendering

const diagram = new DecoderDiagram($('diagram'), { onSelect: (part) => (part === 'next' ? $('next-panel').scrollIntoView({ block: 'nearest' }) : setView(part)) });
const mainMap = new Heatmap($('main-map'), {
  onHover: (cell, x, y) => showCellTooltip(cell, x, y),
  onLeave: hideTooltip,
  onClickRow: (i) => {
    if (state.view === 'encoder' || state.view === 'mask') return;
    state.selectedRow = i;
    render();
  },
});

function render() {
  renderControls();
  renderStage();
  renderExplorer();
}

function renderControls() {
  const ready = Boolean(state.model) && !state.loading;
  const s = state.session;
  const settings = readSettings();
  const stepping = settings.mode === 'steps';
  $('word').disabled = !state.model;
  $('surprise').disabled = !ready;
  $('step').disabled = !ready || !s || !stepping || s.done;
  $('run').disabled = !ready || !s || !stepping || s.done;
  $('play').disabled = !ready || !s || !stepping;
  $('reset').disabled = !ready || !stepping || (!s && !state.message);
  $('play').textContent = state.playing ? 'Pause' : s?.done ? 'Replay' : 'Play';
  $('play').setAttribute('aria-pressed', String(state.playing));
  $('sample-params').hidden = !stepping || settings.strategy !== 'sample';
  $('beam-params').hidden = !stepping || settings.strategy !== 'beam';
  for (const input of document.querySelectorAll('input[name="strategy"]')) input.disabled = !stepping;
  $('teacher-params').hidden = stepping;
  for (const id of ['step', 'play', 'run', 'reset']) $(id).hidden = !stepping;
  $('speed').parentElement.hidden = !stepping;
  $('transport-note').hidden = stepping;
  document.querySelector('.status-line .keys').hidden = !stepping;
  $('causal-switch').hidden = stepping;
  $('model-file').disabled = Boolean(state.loading);
  $('model-select').disabled = state.models.length === 0 || Boolean(state.loading);
  if (!stepping && state.target.word === state.word) {
    if (document.activeElement !== $('target')) $('target').value = state.target.text;
    $('target-source').textContent = state.target.source ? `fed: ${state.target.source}` : '';
    renderTargetPresets();
  }
}

function renderTargetPresets() {
  const presets = readable(state.model, state.word) ? targetPresets().filter((p) => p.source !== state.target.source) : [];
  $('target-presets').replaceChildren(...presets.map((p) => {
    const button = el('button', { type: 'button', class: 'link-button' }, p.label);
    button.addEventListener('click', () => {
      try {
        state.target = { text: p.text(), source: p.source, word: state.word };
      } catch (error) {
        showMessage(messageOf(error));
        return;
      }
      settingsChanged();
    });
    return button;
  }));
}

function renderExamples() {
  const box = $('examples');
  const chips = examplesFor(state.model).map((word) => {
    const chip = el('button', { type: 'button', class: 'chip', 'data-word': word }, word);
    chip.addEventListener('click', () => {
      setWord(word);
      rebuild();
      play();
    });
    return chip;
  });
  box.replaceChildren(el('span', { class: 'hint' }, 'Try'), ...chips);
  markCurrentExample();
}

function markCurrentExample() {
  for (const chip of $('examples').querySelectorAll('.chip')) chip.setAttribute('aria-current', String(chip.dataset.word === state.word));
}

function renderStage() {
  const t = state.session?.trace;
  markCurrentExample();
  const row = currentRow();
  // The word's letters, shaded by the cross-attention of the selected row.
  const letters = $('letters');
  const sel = state.selection.cross ?? { layer: 0, head: 'mean' };
  const weights = t && row >= 0 ? rowsOf(t.cross, sel.layer, sel.head, t.input.length)[row] : null;
  letters.replaceChildren(...(t ? t.input : []).map((letter, j) => {
    const tile = el('span', { class: 'letter' }, letter);
    if (weights) {
      tile.style.backgroundColor = viridisCss(weights[j]);
      tile.style.color = inkOn(weights[j]);
      tile.title = `${letter}: ${fmt(weights[j])}`;
    }
    return tile;
  }));
  if (!t) letters.append(el('span', { class: 'token-placeholder' }, state.model ? 'Type a word above.' : 'Loading the model…'));
  $('letters-caption').textContent = weights
    ? `shaded by cross-attention for ${t.produced[row]} (layer ${sel.layer + 1}, ${headName(sel.head, state.model.config.n_heads)})`
    : '';

  // The output so far: <s> then each produced token; the selected one outlined, the newest in accent.
  const output = $('output');
  const tiles = [];
  if (t) {
    tiles.push(el('span', { class: 'token special', title: 'start of sequence: the first thing the decoder reads' }, '<s>'));
    t.produced.forEach((token, i) => {
      const tile = el('button', {
        type: 'button',
        class: `token${/^<\/?(s|pad)>$/.test(token) ? ' special' : ''}${i === t.produced.length - 1 && t.mode === 'steps' ? ' latest' : ''}`,
        'aria-pressed': String(i === row),
        title: `produced by row ${i}`,
      }, token);
      tile.addEventListener('click', () => {
        state.selectedRow = i;
        render();
      });
      tiles.push(tile);
    });
    if (t.produced.length === 0) tiles.push(el('span', { class: 'token-placeholder' }, 'Press Step → to run the decoder once.'));
  }
  output.replaceChildren(...tiles);
  $('output-caption').textContent = !t ? '' : t.mode === 'teacher'
    ? `teacher-forced: ${t.causal ? 'with' : 'without'} the causal mask`
    : t.done ? `done in ${t.stepMs.length} steps` : `step ${t.stepMs.length}`;

  // The dictionary's pronunciation of held-out words.
  const ref = $('reference');
  const dictionary = state.words.get(state.word.toLowerCase());
  if (t && dictionary) {
    const out = state.session.outputText();
    const verdict = t.mode === 'teacher' || !t.done ? null
      : dictionary.includes(out) ? el('span', { class: 'verdict good' }, '✓ matches') : el('span', { class: 'verdict bad' }, '≠ differs');
    ref.replaceChildren('Dictionary (CMUdict, held out from training): ',
      ...dictionary.flatMap((p, k) => [k ? ' or ' : '', el('span', { class: 'phones' }, p)]), verdict ? ' ' : '', verdict ?? '');
  } else {
    ref.replaceChildren();
  }

  // Time per step.
  let timing = '';
  if (t?.stepMs.length) {
    const last = t.stepMs[t.stepMs.length - 1];
    const sorted = [...t.stepMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    timing = t.mode === 'teacher'
      ? `one parallel pass over ${t.queries.length} positions: ${milliseconds(last)}`
      : `last ${t.strategy === 'beam' ? 'beam step' : 'step'} ${milliseconds(last)} · median ${milliseconds(median)} over ${t.stepMs.length}`;
  }
  $('timing').textContent = timing;
}

function renderTabs() {
  const tabs = $('view-tabs');
  if (!tabs.childElementCount) {
    for (const v of VIEWS) {
      const tab = el('button', { type: 'button', role: 'tab', class: 'view-tab', id: `tab-${v.id}`, 'data-view': v.id }, v.tab);
      tab.addEventListener('click', () => setView(v.id));
      tabs.append(tab);
    }
  }
  for (const tab of tabs.children) tab.setAttribute('aria-selected', String(tab.dataset.view === state.view));
}

function setView(view) {
  if (!VIEWS.some((v) => v.id === view)) return;
  state.view = view;
  hideTooltip();
  renderExplorer();
}

function renderExplorer() {
  renderTabs();
  const view = state.view;
  diagram.highlight(VIEWS.find((v) => v.id === view).part);
  const t = state.session?.trace;
  const model = state.model;
  if (!model) return;
  const c = model.config;
  const sel = state.selection[view] ?? { layer: 0, head: 'mean' };
  diagram.setFed(t?.queries ?? []);
  $('view-title').textContent = viewTitle(view, { ...sel, heads: c.n_heads });
  $('view-explain').textContent = viewExplanation(view, t);

  // The enlarged matrix.
  const data = t ? viewData(view, sel) : null;
  const wrap = $('map-wrap');
  const empty = wrap.querySelector('.empty-note');
  const canvas = $('main-map');
  if (!data || data.rows.length === 0) {
    canvas.hidden = true;
    const text = !t ? 'Nothing to show yet.' : 'The decoder has not taken a step yet: press Step → and the first row, for <s>, appears.';
    if (empty) empty.textContent = text;
    else wrap.append(el('p', { class: 'empty-note' }, text));
  } else {
    empty?.remove();
    canvas.hidden = false;
    const row = view === 'encoder' ? -1 : currentRow();
    canvas.setAttribute('aria-label', `${viewTitle(view, { ...sel, heads: c.n_heads })}: ${data.rows.length} rows`);
    mainMap.draw({
      ...data,
      highlightRow: row,
      latestRow: t.mode === 'steps' && view !== 'encoder' ? t.queries.length - 1 : -1,
    }, Math.max(200, wrap.clientWidth), { maxHeight: window.innerWidth < 640 ? 460 : 520 });
  }
  const legend = $('legend');
  legend.classList.toggle('mask-legend', view === 'mask');
  legend.querySelector('.legend-caption').textContent = view === 'mask' ? 'the mask adds' : 'attention weight';
  for (const part of legend.querySelectorAll('.legend-label, canvas')) part.hidden = view === 'mask';
  legend.querySelector('.legend-masked').lastChild.textContent = view === 'mask' ? '−∞: may not look there' : 'masked (−∞ before the softmax)';
  legend.querySelector('.legend-masked').hidden = view !== 'mask' && !(t?.causal && (view === 'self'));

  renderFormula(view, t);
  renderCompare(view, t);
  renderHeads(view, t);
  renderNext(t);
}

function renderFormula(view, t) {
  const box = $('formula');
  box.hidden = view !== 'mask' || !t;
  if (box.hidden) return;
  const n = t.queries.length;
  const c = state.model.config;
  const dk = c.d_model / c.n_heads;
  const comment = (text) => el('span', { class: 'comment' }, text);
  box.replaceChildren(
    comment('# the lesson\'s mask: True where a query may not look (keys as rows)'), '\n',
    'future = torch.triu(torch.ones(n, n)) == 0', '\n',
    comment(`# drawn above transposed, as PyTorch adds it to the scores (n = ${n}):`), '\n',
    t.causal ? 'M = nn.Transformer.generate_square_subsequent_mask(n)' : 'M = torch.zeros(n, n)', t.causal ? '' : comment('   # mask switched off'), '\n',
    t.causal ? comment('#   = torch.triu(torch.full((n, n), -torch.inf), diagonal=1)') : '', t.causal ? '\n' : '',
    `attention = softmax(Q Kᵀ / √${dk} + M) V`, '   ', comment(`# d_k = ${c.d_model} / ${c.n_heads} heads`),
  );
}

function renderCompare(view, t) {
  const box = $('compare');
  box.hidden = !t || t.mode !== 'teacher' || view === 'encoder';
  if (box.hidden) return;
  const { rowsCompared, maxDiff, greedy } = t.teacher;
  const rows = t.queries.length;
  const span = rowsCompared === 1 ? 'Row 0 equals' : `Rows 0–${rowsCompared - 1} equal`;
  if (!t.causal) {
    box.className = 'compare leak';
    box.textContent = `Without the mask the rows no longer equal the ones computed step by step (largest difference ${maxDiff.toFixed(3)}): each position now sees phonemes that come after it.`;
  } else if (rowsCompared === rows) {
    box.className = 'compare equal';
    box.textContent = `✓ All ${rows} rows equal the rows the decoder computed one step at a time for the same phonemes (largest difference ${maxDiff.toExponential(1)}, float rounding). The mask is what makes the parallel pass and the step-by-step decoder agree.`;
  } else {
    box.className = 'compare partial';
    box.textContent = `${span} the step-by-step rows (largest difference ${maxDiff.toExponential(1)}). Then the reference feeds ${t.queries[rowsCompared]} where the model, on its own, wrote ${greedy.split(' ')[rowsCompared - 1] ?? '</s>'}, and the rows part ways: teacher forcing conditions on the reference, not on the model's guesses.`;
  }
}

function renderHeads(view, t) {
  const grid = $('head-grid');
  const panel = $('heads-panel');
  const c = state.model.config;
  if (view === 'mask' || !t) {
    $('heads-title').textContent = view === 'mask' ? 'Every layer and head' : 'Layers and heads';
    panel.querySelector('.panel-note').textContent = view === 'mask'
      ? `The same mask is added in all ${c.n_decoder_layers} decoder layers and ${c.n_heads} heads of masked self-attention.`
      : '';
    grid.replaceChildren();
    return;
  }
  const layers = layersOf(view);
  const heads = c.n_heads;
  const sel = state.selection[view];
  $('heads-title').textContent = `${plural(layers, 'layer')} × ${plural(heads, 'head')}`;
  panel.querySelector('.panel-note').textContent = 'Each thumbnail is one head; the last column averages them. Click one to enlarge it.';
  grid.style.gridTemplateColumns = `28px repeat(${heads + 1}, minmax(0, 1fr))`;
  const columnWidth = Math.max(16, (grid.clientWidth - 28 - 6 * (heads + 1)) / (heads + 1));
  const nodes = [el('span', {})];
  for (let h = 0; h < heads; h++) nodes.push(el('span', { class: 'axis' }, `H${h + 1}`));
  nodes.push(el('span', { class: 'axis' }, 'mean'));
  const row = currentRow();
  for (let l = 0; l < layers; l++) {
    nodes.push(el('span', { class: 'axis row' }, `L${l + 1}`));
    for (const h of [...Array(heads).keys(), 'mean']) {
      const data = viewData(view, { layer: l, head: h });
      const canvas = el('canvas');
      const button = el('button', {
        type: 'button',
        class: 'thumb',
        'aria-pressed': String(sel.layer === l && sel.head === h),
        'aria-label': `layer ${l + 1}, ${headName(h, heads)}`,
        title: `layer ${l + 1}, ${headName(h, heads)}`,
      }, canvas);
      button.addEventListener('click', () => {
        state.selection[view] = { layer: l, head: h };
        render();
      });
      nodes.push(button);
      if (data.rows.length) {
        new Heatmap(canvas, { thumbnail: true }).draw({ ...data, highlightRow: view === 'encoder' ? -1 : row }, Math.floor(columnWidth - 6));
      }
    }
  }
  grid.replaceChildren(...nodes);
}

function renderNext(t) {
  const box = $('distribution');
  const beams = $('beams');
  const row = currentRow();
  const tokens = state.model.targetTokens;
  beams.hidden = !t?.beams;
  if (t?.beams) renderBeams(beams, { ...t.beams, width: state.session.settings.beamWidth });
  if (!t || row < 0) {
    $('next-title').textContent = 'Next token';
    $('next-note').textContent = 'Linear layer + softmax over the last decoder layer: one probability per phoneme.';
    box.replaceChildren();
    return;
  }
  const dist = t.dist[row];
  const modelProbs = softmax(dist.logits);
  const prefix = t.queries.slice(0, row + 1).join(' ');
  $('next-title').textContent = `Next token after “${shorten(prefix, 28)}”`;
  const top = tokens[dist.chosen];
  let note;
  if (t.mode === 'teacher') {
    const best = tokens[state.session.topChoice(row)];
    note = `The reference continues with ${top}; the model's top choice here is ${best}${best === top ? ' too' : ''}.`;
  } else if (t.strategy === 'sample') {
    note = `Sampled ${top} from softmax(logits / T), cut to top-k and top-p (green); grey: the model's own distribution.`;
  } else if (t.strategy === 'beam') {
    note = `The best hypothesis continues with ${top}. Beam search keeps the ${state.session.settings.beamWidth} best-scoring sequences, not just the best token.`;
  } else {
    note = `Greedy decoding takes the most likely token: ${top}. Hover or tap a bar for its logit.`;
  }
  $('next-note').textContent = note;
  renderDistribution(box, {
    dist,
    model: modelProbs,
    tokens,
    onHover: (info, x, y) => showTooltip([
      [el('strong', { class: 'mono' }, info.token), info.chosen ? el('span', { class: 'dim' }, '  chosen') : ''],
      [`p = ${fmt(info.p)}`, Math.abs(info.p - info.model) > 1e-7 ? el('span', { class: 'dim' }, ` (model: ${fmt(info.model)})`) : ''],
      [el('span', { class: 'dim' }, 'logit '), info.logit.toFixed(4)],
    ], x, y),
    onLeave: hideTooltip,
  });
}

function showCellTooltip(cell, x, y) {
  const t = state.session?.trace;
  const data = mainMap.spec;
  if (!t || !data) return;
  const { i, j } = cell;
  if (state.view === 'mask') {
    showTooltip([
      [el('span', { class: 'dim' }, 'query '), el('strong', { class: 'mono' }, data.rowLabels[i]), el('span', { class: 'dim' }, ` (position ${i})`)],
      [el('span', { class: 'dim' }, 'key '), el('strong', { class: 'mono' }, data.colLabels[j]), el('span', { class: 'dim' }, ` (position ${j})`)],
      cell.masked ? 'M = −∞: the future, hidden' : 'M = 0: allowed',
    ], x, y);
    return;
  }
  const queryKind = state.view === 'encoder' ? 'letter' : 'position';
  const keyKind = state.view === 'self' ? 'position' : 'letter';
  showTooltip([
    [el('span', { class: 'dim' }, 'query '), el('strong', { class: 'mono' }, data.rowLabels[i]), el('span', { class: 'dim' }, ` (${queryKind} ${i})`)],
    [el('span', { class: 'dim' }, 'key '), el('strong', { class: 'mono' }, data.colLabels[j]), el('span', { class: 'dim' }, ` (${keyKind} ${j})`)],
    cell.masked ? ['weight ', el('strong', {}, '0'), el('span', { class: 'dim' }, ' (masked: score −∞)')] : ['weight ', el('strong', {}, fmt(cell.value))],
  ], x, y);
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const milliseconds = (ms) => (ms >= 0.1 ? `${ms.toFixed(2)} ms` : '< 0.1 ms');

function shorten(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------- the state for tests

function plainRows(rows) {
  return rows.map((r) => Array.from(r));
}

function snapshot() {
  const s = state.session;
  const t = s?.trace;
  const c = state.model?.config;
  const all = (view, layers) => (t ? Array.from({ length: layers }, (_, l) => Array.from({ length: c.n_heads }, (_, h) => plainRows(viewData(view, { layer: l, head: h }).rows))) : []);
  const sel = state.selection[state.view];
  const drawn = t ? viewData(state.view, sel) : null;
  return {
    ready: Boolean(state.model) && !state.loading,
    loading: state.loading,
    playing: state.playing,
    model: state.model ? {
      name: state.models.find((m) => m.id === state.modelId)?.name, config: c.name, builtin: state.models.find((m) => m.id === state.modelId)?.builtin,
      parameters: state.model.parameters, encoderLayers: c.n_encoder_layers, decoderLayers: c.n_decoder_layers, heads: c.n_heads,
      maxTargetLen: c.max_target_len,
    } : null,
    models: state.models.map((m) => m.name),
    word: state.word,
    mode: t?.mode ?? readSettings().mode,
    strategy: t?.strategy ?? null,
    causal: t?.causal ?? null,
    message: state.message ? { ...state.message } : null,
    input: t ? [...t.input] : [],
    queries: t ? [...t.queries] : [],
    produced: t ? [...t.produced] : [],
    output: s ? s.outputText() : '',
    steps: t ? t.stepMs.length : 0,
    done: Boolean(t?.done),
    stepMs: t ? [...t.stepMs] : [],
    selectedRow: currentRow(),
    view: state.view,
    selection: sel ? { ...sel } : null,
    drawn: drawn ? { view: state.view, rows: plainRows(drawn.rows), rowLabels: [...drawn.rowLabels], colLabels: [...drawn.colLabels] } : null,
    selfAttention: all('self', c?.n_decoder_layers ?? 0),
    crossAttention: all('cross', c?.n_decoder_layers ?? 0),
    encoderAttention: all('encoder', c?.n_encoder_layers ?? 0),
    teacher: t?.teacher ? { ...t.teacher, fed: state.target.text } : null,
    beams: t?.beams ? { live: t.beams.live.map((b) => b.text), results: t.beams.results.map((b) => b.text) } : null,
  };
}

Object.defineProperty(window, 'stepwiseState', { get: snapshot, enumerable: true });

// ---------------------------------------------------------------- events

function isTextEntry(target) {
  return Boolean(target?.closest?.('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

function wireEvents() {
  $('word').addEventListener('input', () => {
    stopPlaying();
    state.word = $('word').value;
    state.target = { text: '', source: '', word: null };
    rebuild();
  });
  $('word').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      rebuild();
      play();
    }
  });
  $('surprise').addEventListener('click', surprise);
  $('step').addEventListener('click', step);
  $('play').addEventListener('click', togglePlay);
  $('run').addEventListener('click', runToEnd);
  $('reset').addEventListener('click', reset);
  for (const input of document.querySelectorAll('input[name="strategy"], input[name="mode"]')) {
    input.addEventListener('change', () => {
      // A mouse click on a segment should not leave the radio focused (arrow keys would then change it
      // instead of stepping).
      if (performance.now() - state.lastPointerDown < 800) input.blur();
      if (input.name === 'mode') stopPlaying();
      settingsChanged();
    });
  }
  document.addEventListener('pointerdown', (e) => {
    state.lastPointerDown = performance.now();
    // Touch screens have no mouseleave: a tap elsewhere closes the tooltip.
    if (!e.target.closest?.('#main-map, .bar-row')) hideTooltip();
  }, true);
  for (const id of ['temperature', 'top-k', 'top-p', 'seed', 'beam-width']) $(id).addEventListener('change', settingsChanged);
  $('causal').addEventListener('change', settingsChanged);
  $('target').addEventListener('change', () => {
    state.target = { text: $('target').value, source: 'your phonemes', word: state.word };
    if (state.target.text.trim() === '') state.target = { text: '', source: '', word: null };  // back to the default
    settingsChanged();
  });
  $('model-select').addEventListener('change', () => selectModel(Number($('model-select').value)));
  $('model-file').addEventListener('change', () => {
    const file = $('model-file').files?.[0];
    if (file) loadUserModel(file);
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') {
      if (isTextEntry(e.target)) e.target.blur();
      hideTooltip();
      if (readSettings().mode === 'steps') reset();
      return;
    }
    if (isTextEntry(e.target)) return;
    if (e.key === 'ArrowRight') {
      e.preventDefault();
      step();
    } else if (e.key === ' ') {
      e.preventDefault();  // also keeps a focused button from being clicked: the shortcut wins
      togglePlay();
    }
  });
  document.addEventListener('keyup', (e) => {
    if (e.key === ' ' && !isTextEntry(e.target)) e.preventDefault();
  });

  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => state.model && renderExplorer());
  });
}

function surprise() {
  if (!state.model) return;
  stopPlaying();
  const candidates = [...state.words.keys()].filter((w) => readable(state.model, w));
  let word;
  if (candidates.length) {
    word = candidates[Math.floor(Math.random() * candidates.length)];
  } else {
    const pool = examplesFor(state.model)[0] ?? '';
    word = Array.from({ length: Math.max(1, Math.min(6, pool.length)) }, () => pool[Math.floor(Math.random() * pool.length)]).join('');
  }
  setWord(word);
  rebuild();
  play();
}

// ---------------------------------------------------------------- start

// The engine, compiled while the model file downloads; every load waits for it.
let engine = null;

async function main() {
  engine = engineBinary().then((wasmBinary) => Stepwise.module({ wasmBinary }));
  wireEvents();
  drawLegend($('legend-bar'));
  renderTabs();
  state.words = testWords();
  state.loading = document.querySelector('meta[name="stepwise-model"]')?.content || 'the model';
  renderControls();
  let builtin = null;
  try {
    builtin = await builtinModel();
  } catch (error) {
    state.loading = '';
    showMessage(`Could not read the built-in model. ${messageOf(error)} Load a .safetensors file with “Load model…”.`);
    renderControls();
    return;
  }
  if (!builtin) {
    state.loading = '';
    showMessage('This page was built without a model. Load a .safetensors file with “Load model…”.');
    renderControls();
    return;
  }
  try {
    await engine;
    const model = await Stepwise.load(builtin.bytes, { name: builtin.name });
    state.loading = '';
    setWord(examplesFor(model)[0] ?? '');
    const id = addModel(builtin.name, model, true);
    selectModel(id);
    const info = await Stepwise.info();
    $('engine-info').textContent = `Engine ${info.version}, kernels ${info.kernels}; model ${builtin.name}, ${model.parameters.toLocaleString('en')} parameters.`;
  } catch (error) {
    state.loading = '';
    showMessage(`Could not load the built-in model. ${messageOf(error)}`);
    renderControls();
  }
}

main();
