// What the page's controls do: every change to the state (web/store.js) goes through one of these
// functions, and each public one ends with store.render(). Knows nothing about the WebAssembly module
// beyond web/stepwise.js, and draws nothing itself.
import * as Stepwise from './stepwise.js';
import { DecoderSession } from './session.js';
import { examplesFor, readable, targetPresets } from './choices.js';
import { hideTooltip } from './tooltip.js';
import { VIEWS } from './views.js';
import { HEAD_STAGES } from './inside_texts.js';
import { shorten } from './panels/util.js';
import { afterNextFrame } from './paint_timing.js';

const SPEEDS_MS = [1400, 800, 450, 200, 60];  // pause between steps while playing, slow to fast
const INSIDE_STAGES = HEAD_STAGES.length;
const MAX_MODEL_BYTES = 512 * 1024 * 1024;
const $ = (id) => document.getElementById(id);

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
  const render = () => store.render();

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
      causal: $('causal').checked,
    };
    return state.settings;
  }

  function showMessage(text, kind = 'error') {
    state.message = { text, kind };
  }

  // ------------------------------------------------------------ models

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
    return id;
  }

  function useModel(id) {
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
    rebuild({ toEnd: true });
    if (notice) showMessage(notice, 'info');
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
    Object.assign(t, { text: preset.text(), source: preset.source, word: state.word });
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
    if (state.word.trim() === '') {
      stopPlaying();
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
      showMessage(messageOf(error));
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
        render();
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

  function chooseWord(word) {
    stopPlaying();
    setWord(word);
    rebuild();
    startPlaying();
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
    selectModel: then(useModel),

    /** The built-in model, loaded at start-up: added, and the first example word decoded with it. */
    startWith: then((name, model) => {
      state.loading = '';
      setWord(examplesFor(model)[0] ?? '');
      useModel(addModel(name, model, true));
    }),

    /** Start-up ended without a model: says why. */
    startFailed: then((text) => {
      state.loading = '';
      showMessage(text);
    }),

    /** One decoder step; `since`: when the input that asked for it happened (event.timeStamp), for the paint time. */
    step: then((since = performance.now()) => {
      stopPlaying();
      if (stepOnce()) timePaint(since);
    }),

    runToEnd: then(() => {
      stopPlaying();
      const s = state.session;
      if (s && s.trace.mode === 'steps') while (!s.done && stepOnce());
    }),

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
      state.word = word;
      state.target = { text: '', source: '', word: null };
      rebuild();
    }),

    /** Enter in the word box: decode it afresh and play. */
    submitWord: then(() => {
      rebuild();
      startPlaying();
    }),

    /** An example chip: this word, decoded from the start, playing. */
    chooseWord: then(chooseWord),

    /** "Surprise me": a random held-out word the model can read (else a jumble of an example's letters). */
    surprise: then(() => {
      if (!state.model) return;
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

    /** Enlarges one head (or 'mean') of one layer of a view. */
    selectHead: then((view, layer, head) => {
      state.selection[view] = { layer, head };
    }),
  };
}
