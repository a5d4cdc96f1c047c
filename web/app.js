// The page's entry point: makes the store (web/store.js: the state and its render loop), the actions that
// change it (web/actions.js) and the panels that draw it (web/panels/, one module per visual; the contract
// is in web/panels/index.js), wires the controls and the keyboard to the actions, and loads the engine and
// the built-in model.
//
// For tests and the curious, `window.stepwiseState` is a read-only snapshot of what the page shows
// (web/snapshot.js); reading it changes nothing but draws what panels off screen were waiting to draw.
import * as Stepwise from './stepwise.js';
import { createStore } from './store.js';
import { createActions, messageOf } from './actions.js';
import { createPanels } from './panels/index.js';
import { snapshot } from './snapshot.js';
import { createOffscreen } from './offscreen.js';
import { builtinModel, engineModule, secondModelName, testWords } from './assets.js';
import { hideTooltip } from './tooltip.js';
import { createUrlState } from './url_state.js';
import { keepsKey } from './keys.js';
import { warmUp } from './session.js';
import { warmUpHeatmaps } from './heatmap.js';
import { afterNextFrame, whenIdle } from './paint_timing.js';

const $ = (id) => document.getElementById(id);

const store = createStore();
const actions = createActions(store);
store.actions = actions;
const offscreen = createOffscreen(store);  // the big panels wait while off screen
createPanels(store, offscreen);
const urlState = createUrlState(store);  // the state in the address (#…), to share a view

// (a snapshot describes what the page shows: panels waiting off screen are brought up to date first)
Object.defineProperty(window, 'stepwiseState', {
  get: () => {
    offscreen.flush();
    return snapshot(store);
  },
  enumerable: true,
});

// ---------------------------------------------------------------- events

function isTextEntry(target) {
  return Boolean(target?.closest?.('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

function wireEvents() {
  const state = store.state;
  $('word').addEventListener('input', () => actions.typed($('word').value));
  $('word').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      actions.submitWord();
    } else if (e.key === 'ArrowRight' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // → steps from the word box when the caret is at the end of the word: there it has nowhere to go,
      // so a learner who typed a word and reaches for → gets the next step, as everywhere else on the
      // page; inside the word it still moves the caret (and ← always does: the box is for editing).
      const box = $('word');
      if (box.selectionStart === box.value.length && box.selectionEnd === box.value.length) {
        e.preventDefault();
        actions.step(e.timeStamp);
      }
    }
  });
  $('surprise').addEventListener('click', () => actions.surprise());
  $('step').addEventListener('click', (e) => actions.step(e.timeStamp));
  $('back').addEventListener('click', () => actions.back());
  $('scrub').addEventListener('input', () => actions.goToStep(Number($('scrub').value)));
  $('play').addEventListener('click', () => actions.togglePlay());
  $('run').addEventListener('click', () => actions.runToEnd());
  $('reset').addEventListener('click', () => actions.reset());
  for (const input of document.querySelectorAll('input[name="strategy"], input[name="mode"]')) {
    input.addEventListener('change', () => {
      // A mouse click on a segment should not leave the radio focused (arrow keys would then change it
      // instead of stepping).
      if (performance.now() - state.lastPointerDown < 800) input.blur();
      if (input.name === 'mode') actions.modeChanged();
      else actions.settingsChanged();
    });
  }
  document.addEventListener('pointerdown', (e) => {
    state.lastPointerDown = performance.now();
    // Touch screens have no mouseleave: a tap elsewhere closes the tooltip.
    if (!e.target.closest?.('#main-map, .bar-row, [data-value]')) hideTooltip();
  }, true);
  for (const id of ['temperature', 'top-k', 'top-p', 'seed', 'beam-width', 'length-penalty', 'causal']) $(id).addEventListener('change', () => actions.settingsChanged());
  $('target').addEventListener('change', () => actions.typedTarget($('target').value));
  $('model-select').addEventListener('change', () => actions.selectModel(Number($('model-select').value)));
  $('model-file').addEventListener('change', () => {
    const file = $('model-file').files?.[0];
    if (file) actions.loadUserModel(file);
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') {
      if (isTextEntry(e.target)) e.target.blur();
      hideTooltip();
      if (actions.readSettings().mode === 'steps') actions.reset();
      return;
    }
    if (isTextEntry(e.target) || keepsKey(e.target, e.key)) return;  // a focused control keeps its keys
    if (e.key === 'ArrowRight') {
      e.preventDefault();
      actions.step(e.timeStamp);
    } else if (e.key === 'ArrowLeft') {
      e.preventDefault();
      actions.back();
    } else if (e.key === ' ') {
      e.preventDefault();  // (the page does not scroll)
      actions.togglePlay();
    }
  });
  document.addEventListener('keyup', (e) => {
    if (e.key === ' ' && !isTextEntry(e.target) && !keepsKey(e.target, ' ')) e.preventDefault();
  });

  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => state.model && store.render());
  });
}

// ---------------------------------------------------------------- start

async function main() {
  const state = store.state;
  // The engine: compiled by web/boot.js while it downloaded; every load waits for it.
  state.engine = engineModule().then((wasmModule) => Stepwise.module({ wasmModule }));
  wireEvents();
  actions.readSettings();
  state.loading = document.querySelector('meta[name="stepwise-model"]')?.content || 'the model';
  store.render();
  // The held-out words (words.js) are not needed to show a word at step 0: they are read once the page is
  // interactive. A link (#…) may need them to show what it names (a teacher-forced view fed the
  // dictionary's pronunciation by default, a tour stop): then they are read first.
  const link = location.hash.replace(/^#/, '') !== '';
  const words = link ? testWords() : null;
  let builtin = null;
  try {
    builtin = await builtinModel();
  } catch (error) {
    actions.startFailed(`Could not read the built-in model. ${messageOf(error)} Load a .safetensors file with “Load model…”.`);
    actions.wordsArrived(await testWords());
    return;
  }
  if (!builtin) {
    actions.startFailed('This page was built without a model. Load a .safetensors file with “Load model…”.');
    actions.wordsArrived(await testWords());
    return;
  }
  performance.mark('stepwise:model-bytes');
  try {
    await state.engine;
    performance.mark('stepwise:engine');
    const model = await Stepwise.load(builtin.bytes, { name: builtin.name });
    performance.mark('stepwise:model-loaded');
    if (link) actions.wordsArrived(await words);
    // (which big panels are off screen, so that the first word draws only what is on screen: known from the
    // first frame after the panels were made, usually long past by now)
    await offscreen.observed();
    actions.startWith(builtin.name, model, secondModelName());  // a word at step 0, Step enabled
    performance.mark('stepwise:interactive');
    if (link) urlState.start();  // then what a shared link asks for
    // What the first view does not need waits until the frame that shows it is painted: the held-out words
    // (read, then parsed: ~20 ms), the footer's line on the engine; then, each when the browser is idle, the
    // panels off screen (web/offscreen.js) and the engine's and the drawing's code compiled and warm before
    // the first step is asked for, in short pieces: a click that comes meanwhile waits for one piece at most.
    afterNextFrame(() => {
      if (!link) {
        testWords().then((arrived) => {
          actions.wordsArrived(arrived);
          urlState.start();
        });
      }
      const pieces = [
        async () => {
          state.engineInfo = await Stepwise.info();  // (the footer's line: web/panels/footer.js)
          store.render();
        },
        () => warmUp(model, state.word || 'warm', 1), warmUpHeatmaps, () => warmUp(model, state.word || 'warm', 3)];
      const warmNext = () => {
        pieces.shift()();
        if (pieces.length) whenIdle(warmNext);
      };
      whenIdle(warmNext);
    });
  } catch (error) {
    actions.startFailed(`Could not load the built-in model. ${messageOf(error)}`);
    testWords().then((arrived) => actions.wordsArrived(arrived));
  }
}

main();
