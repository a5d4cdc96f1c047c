// What the page's controls do: every change to the state (web/store.js) goes through one of these
// functions, and each public one ends with store.render(). Knows nothing about the WebAssembly module
// beyond web/stepwise.js, and draws nothing itself.
import * as Stepwise from './stepwise.js';
import { DecoderSession } from './session.js';
import { examplesFor, readable, targetPresets } from './choices.js';
import { hideTooltip } from './tooltip.js';
import { VIEWS } from './views.js';
import { BOXES, HEAD_STAGES } from './inside_texts.js';
import { shorten } from './panels/util.js';
import { STOPS } from './tour.js';
import { afterNextFrame } from './paint_timing.js';
import { headwords, shippedModel } from './assets.js';
import { alignments, readingLayer } from './alignment.js';

const SPEEDS_MS = [1400, 800, 450, 200, 60];  // pause between steps while playing, slow to fast
const INSIDE_STAGES = HEAD_STAGES.length;
const MAX_MODEL_BYTES = 512 * 1024 * 1024;
const $ = (id) => document.getElementById(id);
// The decoding form's number fields: setting -> the input's id
const NUMBER_FIELDS = { temperature: 'temperature', topK: 'top-k', topP: 'top-p', seed: 'seed', beamWidth: 'beam-width', lengthPenalty: 'length-penalty' };

function numberFrom(id) {
  const input = $(id);
  return input.value.trim() === '' ? NaN : Number(input.value);
}

/** The error's text for the message box: the engine's own message, else a bug worth seeing. */
export function messageOf(error) {
  if (error instanceof Stepwise.StepwiseError) return error.message;
  console.error(error);  // not an engine message: a bug worth seeing in the console
  return `Something went wrong: ${error?.message ?? error}`;
}

export function createActions(store) {
  const state = store.state;
  const waitingForWords = [];  // what was asked for before the held-out words arrived (wordsArrived)
  // (every change is drawn through here, after the furthest step reached is noted)
  const render = ({ offscreenLater = false } = {}) => {
    noteReach();
    store.render({ offscreenLater });
  };

  // ------------------------------------------------------------ settings and messages

  /** Reads the decoding form into state.settings and returns it. */
  function readSettings() {
    state.settings = {
      mode: document.querySelector('input[name="mode"]:checked').value,
      strategy: document.querySelector('input[name="strategy"]:checked').value,
      temperature: numberFrom('temperature'),
      topK: numberFrom('top-k'),
      topP: numberFrom('top-p'),
      seed: numberFrom('seed'),
      beamWidth: numberFrom('beam-width'),
      lengthPenalty: numberFrom('length-penalty'),
      causal: $('causal').checked,
    };
    return state.settings;
  }

  // field: the id of the form field the message is about ('word', 'target', 'temperature', ...), if any
  function showMessage(text, kind = 'error', field = null) {
    state.message = { text, kind, field };
  }

  // The decoding fields the strategy uses, checked against their own limits (index.html min / max / step),
  // before the engine sees them: { text, field } for the first one out of range, else null.
  function settingsProblem(s) {
    const ids = s.mode !== 'steps' ? [] : s.strategy === 'sample' ? ['temperature', 'top-k', 'top-p', 'seed']
      : s.strategy === 'beam' ? ['beam-width', 'length-penalty'] : [];
    for (const id of ids) {
      const input = $(id);
      const name = input.closest('label')?.firstChild?.textContent.trim() || id;
      const min = Number(input.min);
      const max = input.max === '' ? Infinity : Number(input.max);
      const whole = input.step === '1';
      const range = `${whole ? 'a whole number ' : ''}${max === Infinity ? `${min} or more` : `from ${min} to ${max}`}`;
      const value = numberFrom(id);
      if (!Number.isFinite(value)) return { text: `${name}: enter ${range}${input.value.trim() === '' ? ' (the field is empty)' : ''}.`, field: id };
      if (value < min || value > max || (whole && !Number.isInteger(value))) return { text: `${name} must be ${range}, not ${input.value.trim()}.`, field: id };
    }
    return null;
  }

  // Which field an engine error is about, and its text in the page's words (the engine says "target" for
  // what the page calls the reference).
  function engineProblem(error) {
    const text = messageOf(error);
    if (/(^|: )target: /.test(text)) {
      // a token the reference cannot hold: a hint when it is a phoneme in lowercase or a special token
      const token = /target: '(.+?)' at position \d+ is not in/.exec(text)?.[1];
      const tokens = state.model?.targetTokens ?? [];
      const hint = token === undefined ? ''
        : /^<.*>$/.test(token) ? ` ${token} is a special token, which the page places itself: type the phonemes only.`
          : token !== token.toUpperCase() && tokens.includes(token.toUpperCase()) ? ` Phonemes are written in capitals: ${token.toUpperCase()}.` : '';
      return { text: text.replace(/(^|: )target: /, '$1reference: ') + hint, field: 'target' };
    }
    if (/^option /.test(text)) return { text, field: null };
    return { text, field: 'word' };
  }

  // Writes decoding settings into the form (the fields given; readSettings() reads them back).
  function writeSettings(s) {
    if (s.mode !== undefined) $(`mode-${s.mode}`).checked = true;
    if (s.strategy !== undefined) $(`strategy-${s.strategy}`).checked = true;
    for (const [key, id] of Object.entries(NUMBER_FIELDS)) if (s[key] !== undefined) $(id).value = String(s[key]);
    if (s.causal !== undefined) $('causal').checked = s.causal;
  }

  // The form's settings as the page first showed them (index.html).
  function defaultSettings() {
    const checked = (name) => [...document.querySelectorAll(`input[name="${name}"]`)].find((x) => x.defaultChecked).value;
    const s = { mode: checked('mode'), strategy: checked('strategy'), causal: $('causal').defaultChecked };
    for (const [key, id] of Object.entries(NUMBER_FIELDS)) s[key] = Number($(id).defaultValue);
    return s;
  }

  // ------------------------------------------------------------ models

  // model: null for a shipped model not loaded yet (loadShipped fetches it when it is chosen)
  function addModel(name, model, builtin) {
    const id = state.models.length ? Math.max(...state.models.map((m) => m.id)) + 1 : 1;
    state.models.push({ id, name, model, builtin, loading: null });
    // Keep the built-in model and the two latest of the user's; free the rest.
    const user = state.models.filter((m) => !m.builtin);
    for (const old of user.slice(0, Math.max(0, user.length - 2))) {
      if (old.id === state.modelId) continue;
      old.model.dispose();
      state.models = state.models.filter((m) => m !== old);
    }
    return id;
  }

  function useModel(id) {
    const entry = state.models.find((m) => m.id === id);
    if (!entry) return;
    stopPlaying();
    disposeSession();
    state.modelId = id;
    state.model = entry.model;
    if (!entry.model.config.target_vocab.sep || entry.model.encoderDecoder) state.invention = null;  // only such a model invents
    const c = entry.model.config;
    state.selection = {};
    for (const view of ['self', 'cross']) state.selection[view] = { layer: c.n_decoder_layers - 1, head: 'mean' };
    state.selection.encoder = { layer: Math.max(0, (c.n_encoder_layers || 1) - 1), head: 'mean' };
    state.inside = { ...state.inside, layer: c.n_decoder_layers - 1, head: 0 };
    if (!entry.model.encoderDecoder && state.inside.kind === 'cross') state.inside.kind = 'self';
    if (!entry.model.encoderDecoder && ['cross', 'norm3'].includes(state.inside.box)) state.inside.box = 'self';
    if (!entry.model.encoderDecoder && ['cross', 'encoder'].includes(state.view)) state.view = 'self';  // no such matrices
    let notice = null;
    if (!readable(entry.model, state.word)) {
      const first = examplesFor(entry.model)[0] ?? '';
      if (state.word) notice = `“${shorten(state.word, 40)}” has characters this model does not read; showing “${first}” instead.`;
      setWord(first);
    }
    rebuild();  // at step 0, as every word starts
    if (notice) showMessage(notice, 'info');
  }

  /** The model of a picker entry, fetched now if it is a shipped model not loaded yet (once). */
  function loadShipped(entry) {
    entry.loading ??= (async () => {
      const bytes = await shippedModel(entry.name);
      await state.engine;
      entry.model = await Stepwise.load(bytes, { name: entry.name });
      return entry.model;
    })().catch((error) => {
      entry.loading = null;  // a later choice tries again
      throw error;
    });
    return entry.loading;
  }

  /** Chooses a model in the picker: a shipped one not loaded yet is fetched first. */
  async function selectModel(id) {
    const entry = state.models.find((m) => m.id === id);
    if (!entry || entry.model) return then(useModel)(id);
    const epoch = ++state.loadEpoch;
    state.loading = entry.name;
    stopPlaying();
    showMessage(`Loading ${entry.name}…`, 'info');
    render();
    try {
      await loadShipped(entry);
      if (epoch === state.loadEpoch) {
        state.loading = '';
        state.message = null;
        useModel(id);
      }
    } catch (error) {
      if (epoch === state.loadEpoch) showMessage(`Could not load ${entry.name}. ${messageOf(error)}`);
    } finally {
      if (epoch === state.loadEpoch) state.loading = '';
      render();
    }
  }

  /** Loads a .safetensors file the user chose; the model in use stays if it cannot be read. */
  async function loadUserModel(file) {
    const epoch = ++state.loadEpoch;
    state.loading = file.name;
    stopPlaying();
    showMessage(`Loading ${file.name}…`, 'info');
    render();
    try {
      if (file.size > MAX_MODEL_BYTES) {
        throw new Stepwise.StepwiseError(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MiB is more than this page loads (${MAX_MODEL_BYTES / 2 ** 20} MiB)`);
      }
      await state.engine;
      const model = await Stepwise.load(file, { name: file.name });
      if (epoch !== state.loadEpoch) {
        model.dispose();  // another file was chosen meanwhile
        return;
      }
      const id = addModel(file.name, model, false);
      state.loading = '';
      useModel(id);
      if (!state.message) showMessage(`Loaded ${file.name}: ${model.config.name ?? 'a model'} with ${model.parameters.toLocaleString('en')} parameters.`, 'info');
    } catch (error) {
      if (epoch === state.loadEpoch) showMessage(`Could not load that model. ${messageOf(error)}`);
    } finally {
      if (epoch === state.loadEpoch) {
        state.loading = '';
        $('model-file').value = '';
        render();
      }
    }
  }

  // ------------------------------------------------------------ the session

  function disposeSession() {
    state.session?.dispose();
    state.session = null;
  }

  // The page chooses the word (an example, "surprise me", a model that cannot read the one typed).
  function setWord(word) {
    state.invention = null;
    state.word = word;
    state.wordSet++;
    state.target = { text: '', source: '', word: null };
  }

  // The reference fed in teacher-forcing mode: what was chosen for this word (typed, or a preset), else
  // the first preset: the dictionary's pronunciation of a held-out word, else the model's own output.
  function teacherTarget() {
    const t = state.target;
    if (t.word === state.word && t.text) return t.text;
    const preset = targetPresets(state.model, state.word, state.words)[0];
    // (auto: the page chose it; chosen again once the held-out words arrive, wordsArrived)
    Object.assign(t, { text: preset.text(), source: preset.source, word: state.word, auto: true });
    return t.text;
  }

  /** Starts the current word afresh and replays `steps` steps (or to the end). */
  function rebuild({ steps = 0, toEnd = false } = {}) {
    readSettings();
    state.started = true;
    disposeSession();
    state.selectedRow = null;
    state.message = null;
    if (!state.model) return;
    if (state.invention !== null) {
      // inventing: from <s> alone (web/session.js), sampling with the seed shown
      state.session = new DecoderSession(state.model, '', { mode: 'steps', invent: true, seed: state.invention.seed });
      while (!state.session.done && (toEnd || state.session.steps < steps)) state.session.step();
      return;
    }
    if (state.word.trim() === '') {
      stopPlaying();
      return;
    }
    const problem = settingsProblem(state.settings);
    if (problem) {
      stopPlaying();
      showMessage(problem.text, 'error', problem.field);
      return;
    }
    try {
      const settings = { ...state.settings };
      if (settings.mode === 'teacher') settings.target = teacherTarget();
      const session = new DecoderSession(state.model, state.word, settings);
      state.session = session;
      while (settings.mode === 'steps' && !session.done && (toEnd || session.steps < steps)) session.step();
    } catch (error) {
      disposeSession();
      stopPlaying();
      const { text, field } = engineProblem(error);
      showMessage(text, 'error', field);
    }
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

  // The furthest step this word has reached with these settings (state.reach), for the scrubber: going
  // back keeps it, so the learner can scrub forward again; any other change (word, model, settings, the
  // reference fed, an invention's seed) starts it afresh.
  function noteReach() {
    const s = state.session;
    const key = JSON.stringify([state.modelId, state.word, state.settings, state.target.text, state.invention]);
    if (state.reach?.key !== key) state.reach = { key, steps: 0, done: false };
    if (s && s.trace.mode === 'steps' && s.steps >= state.reach.steps) Object.assign(state.reach, { steps: s.steps, done: s.done });
  }

  // Shows step n of the word (0: nothing decoded yet). Forward, the session steps on; back, the word is
  // decoded again from the start to step n, because the engine's KV cache only grows. That replay is
  // exact: the model is deterministic, the sampler restarts from its seed and beam search has no chance
  // in it, so step n shows the same tokens, matrices and numbers as it did the first time.
  function goToStep(n) {
    stopPlaying();
    const s = state.session;
    if (!s || s.trace.mode !== 'steps' || !Number.isFinite(n)) return;
    const target = Math.max(0, Math.floor(n));
    if (target < s.steps) {
      hideTooltip();
      rebuild({ steps: target });
    } else {
      while (s.steps < target && stepOnce());
    }
  }

  // The paint time of the step just taken (web/paint_timing.js), from `since` to the next frame (inFrame:
  // the one under way, when the step was drawn in a requestAnimationFrame callback): kept in state.paint
  // for the transport's status line, unless another step or word came first.
  function timePaint(since, { inFrame = false } = {}) {
    const session = state.session;
    const steps = session.steps;
    afterNextFrame((now) => {
      if (state.session !== session || session.steps !== steps) return;
      state.paint = { session, steps, ms: now - since };
      render();
    }, { inFrame });
  }

  // Steps on its own, one step per SPEEDS_MS (the speed slider, read at each step), to the end.
  function startPlaying() {
    if (!state.session || state.session.trace.mode !== 'steps') return;
    if (state.session.done) rebuild({ steps: 0 });
    if (!state.session) return;
    state.playing = true;
    const epoch = ++state.playEpoch;
    const tick = () => {
      // Yield to the browser before each step so the page paints and stays responsive.
      requestAnimationFrame(() => {
        if (!state.playing || epoch !== state.playEpoch) return;
        const since = performance.now();
        const stepped = stepOnce();
        const over = !state.session || state.session.done || !state.playing;
        if (over) stopPlaying();
        render({ offscreenLater: stepped });
        if (stepped) timePaint(since, { inFrame: true });
        if (!over) state.timer = setTimeout(tick, SPEEDS_MS[Number($('speed').value)] ?? 400);
      });
    };
    tick();
  }

  function stopPlaying() {
    if (!state.playing) return;
    state.playing = false;
    state.playEpoch++;
    clearTimeout(state.timer);
  }

  // Settings changed: decode again up to the same step, so the views stay where the learner was.
  function replay() {
    const steps = state.session?.steps ?? 0;
    const wasDone = state.session?.done ?? false;
    rebuild(wasDone ? { toEnd: true } : { steps });
  }

  // The page chose a word: it starts at step 0, Step enabled, as a typed one does.
  function chooseWord(word) {
    stopPlaying();
    setWord(word);
    rebuild();
  }

  // ------------------------------------------------------------ a whole state at once

  /**
   * Puts the page in the state `want` describes: what a shared link holds (web/url_state.js reads it) or
   * a guided tour's stop. Every field is optional; one left out stays as it is:
   *   model                 a model's name (state.models)
   *   word, target          the word; the reference teacher forcing feeds
   *   mode, strategy, temperature, topK, topP, seed, beamWidth, lengthPenalty, causal    the decoding form
   *   step                  how many steps are decoded (a number, or 'end')
   *   view, maskOrder       the matrix enlarged; how the mask is drawn
   *   selection             view -> { layer, head } (0-based; head a number or 'mean')
   *   row                   the decoder row looked at (null: the latest)
   *   inside                "open the box": any of state.inside's fields
   *   tourStop              the guided tour's stop (null: none)
   * What cannot be shown is left as it was (or at the default) and said in one message, after `notes`
   * (what the caller found wrong already). Returns the problems.
   */
  function applyState(want, { notes = [], heading = 'Part of this state could not be shown' } = {}) {
    stopPlaying();
    hideTooltip();
    const problems = [...notes];
    const quote = (x) => `“${shorten(String(x), 40)}”`;
    const isIndex = (x, n) => Number.isInteger(x) && x >= 0 && x < n;
    const fromZero = (x) => (typeof x === 'number' ? x + 1 : x);  // a layer or head as the page counts it
    const keepSteps = state.session?.done ? 'end' : state.session?.steps ?? 0;

    if (want.model !== undefined) {
      const entry = state.models.find((m) => m.name === want.model);
      const current = state.models.find((m) => m.id === state.modelId)?.name ?? 'no model';
      if (!entry) problems.push(`the model ${quote(want.model)} is not on this page (a model loaded from a file cannot travel in a link; load it with “Load model…”), so ${current} is shown`);
      else if (entry.id !== state.modelId) useModel(entry.id);
    }
    const model = state.model;
    if (!model) return problems;
    const c = model.config;

    // the decoding form
    const form = {};
    for (const [key, allowed] of [['mode', ['steps', 'teacher']], ['strategy', ['greedy', 'sample', 'beam']]]) {
      if (want[key] === undefined) continue;
      if (allowed.includes(want[key])) form[key] = want[key];
      else problems.push(`${key} ${quote(want[key])} is not one of ${allowed.join(', ')}`);
    }
    for (const [key, id] of Object.entries(NUMBER_FIELDS)) {
      if (want[key] === undefined) continue;
      if (typeof want[key] === 'number' && Number.isFinite(want[key])) form[key] = want[key];
      else problems.push(`${id.replace('-width', ' width').replace('length-penalty', 'length penalty α')} ${quote(want[key])} is not a number, so it stays ${$(id).value}`);
    }
    if (typeof want.causal === 'boolean') form.causal = want.causal;
    else if (want.causal !== undefined) problems.push(`causal ${quote(want.causal)} is neither on nor off`);
    writeSettings(form);

    // the word and the reference
    if (want.word !== undefined) {
      if (typeof want.word === 'string' && (want.word === '' || readable(model, want.word))) {
        if (want.word !== state.word) setWord(want.word);
      } else {
        problems.push(`this model cannot read the word ${quote(want.word)}${String(want.word).length > 40 ? ` (${String(want.word).length} characters)` : ''}, so “${state.word}” is shown`);
      }
    }
    if (typeof want.target === 'string' && want.target.trim() !== '') {
      // named as the preset it equals, if it is one (the dictionary's, the model's own output)
      let source = 'your phonemes';
      try {
        source = targetPresets(model, state.word, state.words).find((p) => p.text() === want.target)?.source ?? source;
      } catch {
        // (a preset that cannot be computed is not this one)
      }
      state.target = { text: want.target, source, word: state.word };
    } else if (want.target !== undefined && want.target !== '') {
      problems.push(`the reference ${quote(want.target)} is not text`);
    }

    // decoded to the step asked for; what the engine refuses falls back, one thing after another
    let steps = want.step === undefined ? keepSteps : want.step;
    if (steps !== 'end' && !(Number.isInteger(steps) && steps >= 0)) {
      problems.push(`step ${quote(steps)} is not a number of steps, so step 0 is shown`);
      steps = 0;
    }
    const decode = () => rebuild(steps === 'end' ? { toEnd: true } : { steps });
    decode();
    const fallbacks = [
      [want.target !== undefined, 'the reference', 'the default reference is fed', () => Object.assign(state.target, { text: '', source: '', word: null })],
      [Object.keys(form).length > 0, 'the decoding settings', 'the defaults are used', () => writeSettings(defaultSettings())],
      [want.word !== undefined, 'the word', 'the first example is shown', () => setWord(examplesFor(model)[0] ?? '')],
    ];
    for (const [given, what, instead, fallBack] of fallbacks) {
      if (state.session || state.word.trim() === '' || state.message?.kind !== 'error') break;
      if (!given) continue;
      const refused = state.message.text;
      fallBack();
      decode();
      problems.push(`${what} could not be used (${refused.replace(/\.$/, '')}), so ${instead}`);
    }
    const s = state.session;
    if (s && s.trace.mode === 'steps' && steps !== 'end' && s.steps < steps) {
      problems.push(`step ${steps.toLocaleString('en')} is past the end: “${shorten(state.word, 40)}” is done after ${s.steps} steps, shown here`);
    }

    // what is looked at
    if (want.view !== undefined) {
      if (!VIEWS.some((v) => v.id === want.view)) problems.push(`there is no view ${quote(want.view)}`);
      else if (!model.encoderDecoder && ['cross', 'encoder'].includes(want.view)) problems.push(`a decoder-only model has no ${want.view === 'cross' ? 'cross-attention' : 'encoder'} to show`);
      else state.view = want.view;
    }
    if (want.maskOrder !== undefined) {
      if (want.maskOrder === 'query-key' || want.maskOrder === 'key-query') state.maskOrder = want.maskOrder;
      else problems.push(`the mask order ${quote(want.maskOrder)} is neither query-key nor key-query`);
    }
    for (const [view, here] of Object.entries(want.selection ?? {})) {
      if (!['self', 'cross', 'encoder'].includes(view) || (!model.encoderDecoder && view !== 'self')) continue;
      const layers = view === 'encoder' ? c.n_encoder_layers : c.n_decoder_layers;
      if (isIndex(here?.layer, layers) && (here.head === 'mean' || isIndex(here.head, c.n_heads))) state.selection[view] = { layer: here.layer, head: here.head };
      else problems.push(`the ${view} view has no layer ${quote(fromZero(here?.layer))}, head ${quote(fromZero(here?.head))} (this model: ${layers} layers × ${c.n_heads} heads)`);
    }
    if (want.row !== undefined && want.row !== null) {
      if (isIndex(want.row, s?.trace.queries.length ?? 0)) state.selectedRow = want.row;
      else problems.push(`there is no decoder row ${quote(want.row)} at this step`);
    }
    if (want.inside !== undefined) {
      const i = want.inside ?? {};
      const next = { ...state.inside };
      const checks = {
        layer: (x) => isIndex(x, c.n_decoder_layers),
        head: (x) => isIndex(x, c.n_heads),
        kind: (x) => x === 'self' || (x === 'cross' && model.encoderDecoder),
        stage: (x) => isIndex(x, INSIDE_STAGES),
        box: (x) => Object.hasOwn(BOXES, x) && (model.encoderDecoder || !['cross', 'norm3'].includes(x)),
        counterpart: (x) => typeof x === 'boolean',
      };
      for (const [key, valid] of Object.entries(checks)) {
        if (i[key] === undefined) continue;
        if (valid(i[key])) next[key] = i[key];
        else problems.push(`“open the box” has no ${key} ${quote(['layer', 'head', 'stage'].includes(key) ? fromZero(i[key]) : i[key])}`);
      }
      state.inside = next;
    }
    if (want.tourStop !== undefined) {
      if (want.tourStop === null || isIndex(want.tourStop - 1, STOPS.length)) state.tourStop = want.tourStop;
      else problems.push(`the tour has no stop ${quote(want.tourStop)} (its stops are 1 to ${STOPS.length})`);
    }
    if (problems.length) showMessage(`${heading}: ${problems.join('; ')}.`);
    return problems;
  }

  // ------------------------------------------------------------ public actions

  // Each of these changes the state, then draws it once.
  const then = (change) => (...args) => {
    change(...args);
    render();
  };
  return {
    readSettings,
    loadUserModel,
    selectModel,

    /**
     * The built-in model, loaded at start-up: added, and the first example word decoded with it; `second`
     * names the second shipped model, offered in the picker and fetched when chosen ('' for none).
     */
    startWith: (name, model, second = '') => {
      state.loading = '';
      setWord(examplesFor(model)[0] ?? '');
      const id = addModel(name, model, true);
      if (second) addModel(second, null, true);
      useModel(id);
      // drawn as a step is, but the big panels off screen wait until the browser is idle after the frame
      // that makes the page interactive (Step enabled) is painted (web/offscreen.js)
      render({ offscreenLater: 'idle' });
    },

    /** A decoder-only G2P model invents a word: from <s> alone, sampled with this seed, step by step. */
    invent: then((seed) => {
      if (!state.model || state.model.encoderDecoder || !state.model.config.target_vocab.sep) return;
      if (!Number.isSafeInteger(seed) || seed < 0) {
        showMessage('The seed must be a whole number, 0 or more.');
        return;
      }
      stopPlaying();
      setWord('');
      state.invention = { seed };
      // whether the word is new: every headword, read once, while the model writes (the first time only)
      if (state.headwords === null) {
        headwords().then((words) => {
          state.headwords = words ?? false;
          render();
        });
      }
      rebuild();
      startPlaying();
    }),

    /** The invented word, read by the encoder-decoder: that model chosen, a run started on its letters. */
    pronounceInvented: async () => {
      const word = state.session?.trace.invented ? state.session.invented().word : '';
      const entry = state.models.find((m) => m.builtin && (m.model ? m.model.encoderDecoder : false));
      if (!word || !entry) return;
      stopPlaying();
      setWord(word);
      useModel(entry.id);
      rebuild();
      startPlaying();
      render();
    },

    /**
     * The alignment of both shipped models for `word` (web/alignment.js): the other model is fetched when
     * it is not loaded yet. A word one of them cannot read: says so.
     */
    compareModels: async (word) => {
      const shipped = state.models.filter((m) => m.builtin);
      const epoch = ++state.compareEpoch;
      state.compare = { word, loading: true, result: null, error: '', selection: state.compare?.selection ?? null };
      render();
      try {
        const models = await Promise.all(shipped.map((m) => m.model ?? loadShipped(m)));
        const ed = models.find((m) => m.encoderDecoder);
        const dec = models.find((m) => !m.encoderDecoder);
        if (epoch !== state.compareEpoch) return;
        if (!ed || !dec) throw new Stepwise.StepwiseError('this page ships one model: nothing to compare it with');
        if (!readable(ed, word) || !readable(dec, word)) throw new Stepwise.StepwiseError(`“${shorten(word, 40)}” is not a word both models can read: type one in letters`);
        const result = alignments(ed, dec, word);
        const opening = (side) => ({ layer: readingLayer(side), head: 'mean' });
        state.compare = { word, loading: false, result, error: '', selection: { encoderDecoder: opening(result.encoderDecoder), decoderOnly: opening(result.decoderOnly) } };
      } catch (error) {
        if (epoch === state.compareEpoch) state.compare = { word, loading: false, result: null, error: messageOf(error), selection: null };
      }
      if (epoch === state.compareEpoch) render();
    },

    /** The layer and head shown on one side of the comparison ('encoderDecoder' | 'decoderOnly'). */
    selectCompareHead: then((side, layer, head) => {
      if (state.compare?.selection) state.compare.selection[side] = { layer, head };
    }),

    /** Start-up ended without a model: says why. */
    startFailed: then((text) => {
      state.loading = '';
      showMessage(text);
    }),

    /** One decoder step; `since`: when the input that asked for it happened (event.timeStamp), for the paint time. */
    step: (since = performance.now()) => {
      stopPlaying();
      const stepped = stepOnce();
      // (timed first: its message after the frame comes before the one that draws the panels off screen)
      if (stepped) timePaint(since);
      render({ offscreenLater: stepped });
    },

    runToEnd: then(() => {
      stopPlaying();
      const s = state.session;
      if (s && s.trace.mode === 'steps') while (!s.done && stepOnce());
    }),

    /** One step back (the mask shrinks again). */
    back: then(() => {
      const s = state.session;
      if (s && s.steps > 0) goToStep(s.steps - 1);
      else stopPlaying();
    }),

    /** Step n, forward or back (the scrubber). */
    goToStep: then(goToStep),

    /** Back to the first step. */
    reset: then(() => {
      stopPlaying();
      hideTooltip();
      rebuild({ steps: 0 });
    }),

    play: then(startPlaying),
    stopPlaying: then(stopPlaying),
    togglePlay: then(() => (state.playing ? stopPlaying() : startPlaying())),

    /** A decoding setting changed (strategy, an option, the causal switch). */
    settingsChanged: then(replay),

    /** Step by step or teacher forcing. */
    modeChanged: then(() => {
      stopPlaying();
      replay();
    }),

    /** The word box changed (typed or pasted): decode the new word from its first step. */
    typed: then((word) => {
      stopPlaying();
      state.invention = null;
      state.word = word;
      state.target = { text: '', source: '', word: null };
      rebuild();
    }),

    /** Enter in the word box: the word afresh, at step 0. */
    submitWord: then(() => {
      stopPlaying();
      rebuild();
    }),

    /** An example chip: this word, at step 0. */
    chooseWord: then(chooseWord),

    /**
     * The held-out words (web/assets.js testWords) arrived, after the page became interactive: what waited
     * for them is done now, and a teacher-forced view fed the reference the page chose without them is
     * fed the one it chooses now (the dictionary's, for a held-out word).
     */
    wordsArrived: then((words) => {
      state.words = words;
      state.wordsLoaded = true;
      if (state.target.auto) {
        state.target = { text: '', source: '', word: null };
        if (state.session?.trace.mode === 'teacher') replay();
      }
      for (const f of waitingForWords.splice(0)) f();
    }),

    /** Calls f now if the held-out words are in, else once they arrive (the latest f of each `key` only). */
    whenWordsLoaded: (f, key = f) => {
      if (state.wordsLoaded) return f();
      const k = waitingForWords.findIndex((w) => w.key === key);
      if (k >= 0) waitingForWords.splice(k, 1);
      waitingForWords.push(Object.assign(() => f(), { key }));
    },

    /** "Surprise me": a random held-out word the model can read (else a jumble of an example's letters). */
    surprise: then(() => {
      if (!state.model) return;
      // (clicked before the words arrived: it happens once they are in, unless the word changed meanwhile)
      if (!state.wordsLoaded) {
        const asked = state.wordSet;
        const word = state.word;
        return store.actions.whenWordsLoaded(() => asked === state.wordSet && word === state.word && store.actions.surprise(), 'surprise');
      }
      const candidates = [...state.words.keys()].filter((w) => readable(state.model, w));
      let word;
      if (candidates.length) {
        word = candidates[Math.floor(Math.random() * candidates.length)];
      } else {
        const pool = examplesFor(state.model)[0] ?? '';
        word = Array.from({ length: Math.max(1, Math.min(6, pool.length)) }, () => pool[Math.floor(Math.random() * pool.length)]).join('');
      }
      chooseWord(word);
    }),

    /** Teacher forcing feeds `text` (typed; '' goes back to the default reference). */
    typedTarget: then((text) => {
      state.target = { text, source: 'your phonemes', word: state.word };
      if (state.target.text.trim() === '') state.target = { text: '', source: '', word: null };
      replay();
    }),

    /** Teacher forcing feeds a preset reference (web/choices.js targetPresets). */
    feedPreset: then((preset) => {
      try {
        state.target = { text: preset.text(), source: preset.source, word: state.word };
      } catch (error) {
        showMessage(messageOf(error));
        return;
      }
      replay();
    }),

    /** The matrix to enlarge: 'mask', 'self', 'cross' or 'encoder'. */
    setView: then((view) => {
      if (!VIEWS.some((v) => v.id === view)) return;
      if (state.model && !state.model.encoderDecoder && ['cross', 'encoder'].includes(view)) return;
      state.view = view;
      hideTooltip();
    }),

    /** How the causal-mask tab draws the mask: 'query-key' (as PyTorch adds it) or 'key-query' (as the course reads). */
    setMaskOrder: then((order) => {
      if (order === 'query-key' || order === 'key-query') state.maskOrder = order;
      hideTooltip();
    }),

    /** Looks at decoder row i (a token or a row of the matrix clicked). */
    selectRow: then((i) => {
      state.selectedRow = i;
    }),

    /**
     * "Open the box": changes what the panels look inside ({ layer, head, kind, stage, counterpart, box },
     * any of them; web/store.js). The stage is kept within the head walk's sub-steps.
     */
    setInside: then((patch) => {
      const c = state.model?.config;
      const next = { ...state.inside, ...patch };
      if (c) {
        next.layer = Math.max(0, Math.min(c.n_decoder_layers - 1, Number(next.layer) | 0));
        next.head = Math.max(0, Math.min(c.n_heads - 1, Number(next.head) | 0));
        if (next.kind === 'cross' && !state.model.encoderDecoder) next.kind = 'self';
      }
      next.stage = Math.max(0, Math.min(INSIDE_STAGES - 1, next.stage | 0));
      state.inside = next;
      hideTooltip();
    }),

    /** A whole state at once (a shared link, a tour's stop): see applyState above. Returns the problems. */
    applyState: (want, options) => {
      const problems = applyState(want, options);
      render();
      return problems;
    },

    /** The guided tour's stop shown (counted from 1, web/tour.js), or null to close the tour; nothing else changes. */
    setTourStop: then((stop) => {
      if (stop === null || (Number.isInteger(stop) && stop >= 1 && stop <= STOPS.length)) state.tourStop = stop;
    }),

    /** Enlarges one head (or 'mean') of one layer of a view. */
    selectHead: then((view, layer, head) => {
      state.selection[view] = { layer, head };
    }),
  };
}
