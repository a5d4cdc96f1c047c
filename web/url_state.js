// The page's state in its address: the part after `#` names the model, the word, the mode, the decoding
// strategy and its settings, the step, the view, the layer and head of each view, the way the mask is
// drawn, the row and "open the box" looked at, and the guided tour's stop, so that a link opens exactly
// what its sender saw, over http and from file:// alike (a hash needs no server).
//
//   #model=g2p-cmudict.safetensors&word=knight&mode=steps&strategy=sample&temperature=1.5&topk=0&topp=1
//    &seed=7&step=3&view=cross&self=3.mean&cross=2.3&encoder=3.mean&open=3.1.self.1.self
//   (beam search: &strategy=beam&beam=5&alpha=1, its width and length penalty α)
//
// Layers, heads and the head walk's sub-steps count from 1, as the page labels them; rows (decoder
// positions) from 0, as the trace does. The address follows the page with history.replaceState (no new
// history entries); the page follows the address on load and when it is edited (hashchange). What a link
// asks for that cannot be shown (an unknown model, a word the model cannot read, a setting the engine
// refuses) is said in the message box and left at the default: store.actions.applyState (web/actions.js)
// judges every value, so a guided tour can hand it a whole state object the same way.
import { targetPresets } from './choices.js';
import { afterNextFrame } from './paint_timing.js';

// One key per field, in the order the address lists them.
const KEYS = ['model', 'word', 'mode', 'strategy', 'temperature', 'topk', 'topp', 'seed', 'beam', 'alpha', 'causal', 'ref', 'step',
  'view', 'self', 'cross', 'encoder', 'order', 'row', 'open', 'tour'];
const NUMBER_KEYS = { temperature: 'temperature', topk: 'topK', topp: 'topP', seed: 'seed', beam: 'beamWidth', alpha: 'lengthPenalty' };
// At most one address write per this many milliseconds: Chromium warns in the console and throttles a
// page that calls history.replaceState too often (playing at full speed steps every 60 ms).
const MIN_WRITE_GAP_MS = 250;

// A number as the address writes it, else the text itself (applyState then says what it is not).
function number(text) {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : text;
}

// A count from 1 in the address, from 0 in the state (the text itself when it is no whole number).
function fromOne(text) {
  const n = number(text);
  return Number.isInteger(n) ? n - 1 : text;
}

/** The state of the page (store.state) as an address hash, without the '#'. */
export function toHash(state) {
  const p = new URLSearchParams();
  const entry = state.models.find((m) => m.id === state.modelId);
  if (!entry || !state.settings) return '';
  const s = state.settings;
  const c = state.model.config;
  p.set('model', entry.name);
  p.set('word', state.word);
  p.set('mode', s.mode);
  if (s.mode === 'steps') {
    p.set('strategy', s.strategy);
    const keys = s.strategy === 'sample' ? ['temperature', 'topk', 'topp', 'seed'] : s.strategy === 'beam' ? ['beam', 'alpha'] : [];
    for (const key of keys) if (Number.isFinite(s[NUMBER_KEYS[key]])) p.set(key, String(s[NUMBER_KEYS[key]]));
    p.set('step', String(state.session?.steps ?? 0));
  } else {
    p.set('causal', s.causal ? '1' : '0');
    // the reference fed, unless it is the one this word gets by default
    const t = state.target;
    if (t.word === state.word && t.text && t.source !== targetPresets(state.model, state.word, state.words)[0]?.source) p.set('ref', t.text);
  }
  p.set('view', state.view);
  for (const view of state.model.encoderDecoder ? ['self', 'cross', 'encoder'] : ['self']) {
    const here = state.selection[view];
    if (here) p.set(view, `${here.layer + 1}.${here.head === 'mean' ? 'mean' : here.head + 1}`);
  }
  if (state.maskOrder !== 'query-key') p.set('order', state.maskOrder);
  if (state.selectedRow !== null) p.set('row', String(state.selectedRow));
  const i = state.inside;
  if (c) p.set('open', [i.layer + 1, i.head + 1, i.kind, i.stage + 1, i.box, ...(i.counterpart ? ['tf'] : [])].join('.'));
  if (state.tourStop !== null && state.tourStop !== undefined) p.set('tour', String(state.tourStop));
  return p.toString();
}

/**
 * An address hash (with or without '#') read into what applyState takes: { want, notes }, notes naming the
 * keys it does not know. Values are read, not judged: applyState judges them against the model in use.
 * Keys left out get their defaults where the default does not depend on the model.
 */
export function fromHash(hash) {
  const want = { maskOrder: 'query-key', row: null, tourStop: null };
  const notes = [];
  let params;
  try {
    params = new URLSearchParams(String(hash).replace(/^#/, ''));
  } catch {
    return { want: {}, notes: ['the part after # could not be read'] };
  }
  const unknown = [];
  for (const [key, value] of params) {
    if (!KEYS.includes(key)) {
      unknown.push(key);
      continue;
    }
    if (Object.hasOwn(NUMBER_KEYS, key)) want[NUMBER_KEYS[key]] = number(value);
    else if (key === 'model' || key === 'word' || key === 'mode' || key === 'strategy' || key === 'view') want[key] = value;
    else if (key === 'ref') want.target = value;
    else if (key === 'causal') want.causal = { 1: true, on: true, true: true, 0: false, off: false, false: false }[value] ?? value;
    else if (key === 'step') want.step = value === 'end' ? 'end' : number(value);
    else if (key === 'order') want.maskOrder = value;
    else if (key === 'row') want.row = number(value);
    else if (key === 'tour') want.tourStop = number(value);
    else if (key === 'open') {
      const parts = value.split('.');
      const [layer, head, kind, stage, box, tf] = parts;
      if (parts.length < 5 || parts.length > 6) notes.push(`open “${value.length > 30 ? `${value.slice(0, 29)}…` : value}” is not layer.head.kind.stage.box`);
      else want.inside = { layer: fromOne(layer), head: fromOne(head), kind, stage: fromOne(stage), box, counterpart: tf === 'tf' };
    } else {
      // self / cross / encoder: layer.head
      const [layer, head] = value.split('.');
      want.selection ??= {};
      want.selection[key] = { layer: fromOne(layer ?? ''), head: head === 'mean' ? 'mean' : fromOne(head ?? '') };
    }
  }
  if (unknown.length) {
    const shown = unknown.slice(0, 3).map((k) => `“${k.length > 20 ? `${k.slice(0, 19)}…` : k}”`).join(', ');
    notes.push(unknown.length === 1 ? `the key ${shown} means nothing here` : `the keys ${shown}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''} mean nothing here`);
  }
  return { want, notes };
}

/**
 * Keeps the address and the page in step. start() is called once the model is in use: it shows what the
 * address holds (if anything), then writes the page's state into it after every change.
 */
export function createUrlState(store) {
  let written = null;  // the hash last written (or read)
  let lastWrite = -Infinity;
  let timer = 0;
  let started = false;

  const write = () => {
    timer = 0;
    const hash = toHash(store.state);
    if (hash === written) return;
    written = hash;
    lastWrite = performance.now();
    history.replaceState(history.state, '', `${location.pathname}${location.search}#${hash}`);
  };

  let applying = false;  // a shipped model the link names is being fetched: the address waits for it
  const apply = async () => {
    const hash = location.hash.replace(/^#/, '');
    if (hash === '' || hash === written) return;
    written = hash;
    const { want, notes } = fromHash(hash);
    // A shipped model that is fetched only when chosen (the decoder-only one) is chosen first.
    const entry = store.state.models.find((m) => m.name === want.model);
    if (entry && !entry.model) {
      applying = true;
      try {
        await store.actions.selectModel(entry.id);
      } finally {
        applying = false;
      }
      if (!entry.model) return;  // it could not be loaded: selectModel said why
    }
    store.actions.applyState(want, { notes, heading: 'This link could not be shown in full' });
  };

  // in the render loop: after each change, the address follows (at most once per MIN_WRITE_GAP_MS), once
  // the frame that shows the change is painted (history.replaceState costs ~2 ms: not in the way of a step)
  store.add({
    update() {
      if (!started || applying || timer || !store.state.model) return;
      timer = -1;  // (a write is on its way)
      afterNextFrame(() => {
        timer = setTimeout(write, Math.max(0, lastWrite + MIN_WRITE_GAP_MS - performance.now()));
      });
    },
  });

  return {
    start() {
      if (started) return;
      started = true;
      apply();
      window.addEventListener('hashchange', apply);
      store.render();
    },
  };
}
