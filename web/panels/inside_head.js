// Inside one head: for the row shown, the layer and head chosen (store.state.inside), one attention head
// of masked self-attention or cross-attention computed in sub-steps the learner walks (the buttons, or
// [ and ], or ← and → while the panel itself has focus): q and the keys, q·k_j, ÷√d_k, + mask (stepping
// needs none; the teacher-forced counterpart of the same row shows the −∞), softmax, Σ w_j v_j, the heads
// concatenated, W_O. Every number is one the engine recorded (session.js: run.inside()), hoverable; the
// words are in web/inside_texts.js.
import { HEAD_KIND, HEAD_STAGES, BEAM_NOTE, NO_STEP_NOTE, rowNote } from '../inside_texts.js';
import { el } from '../tooltip.js';
import { h, patch } from './patch.js';
import { Memo, setAttribute, setProperty, setText } from './util.js';
import { hoverTips, matrixRows, numberCells, strip } from './vectors.js';

const isControl = (node) => Boolean(node?.closest?.('input, select, textarea, [contenteditable]'));

export function create(root, store) {
  const title = root.querySelector('#inside-head-title');
  const note = root.querySelector('#inside-head-note');
  const kinds = root.querySelector('#inside-head-kind');
  const stages = root.querySelector('#inside-head-stages');
  const body = root.querySelector('#inside-head-body');
  hoverTips(body);

  const kindButtons = Object.entries(HEAD_KIND).map(([kind, label]) => {
    const b = el('button', { type: 'button', class: 'button button-small', 'data-kind': kind, 'aria-pressed': 'false' }, label);
    b.addEventListener('click', () => store.actions.setInside({ kind }));
    return b;
  });
  kinds.append(...kindButtons);
  const prev = el('button', { type: 'button', class: 'button button-small', 'aria-label': 'previous sub-step', title: 'previous sub-step ([ or ←)' }, '‹');
  const next = el('button', { type: 'button', class: 'button button-small', 'aria-label': 'next sub-step', title: 'next sub-step (] or →)' }, '›');
  const pills = HEAD_STAGES.map((s, k) => {
    const b = el('button', { type: 'button', class: 'stage-pill', 'data-stage': s.id, 'aria-current': 'false' }, `${k + 1}. ${s.title}`);
    b.addEventListener('click', () => go(k));
    return b;
  });
  stages.append(prev, ...pills, next);
  const go = (stage) => {
    store.actions.setInside({ stage });
    root.focus({ preventScroll: true });  // the keys keep walking
  };
  prev.addEventListener('click', () => go(store.state.inside.stage - 1));
  next.addEventListener('click', () => go(store.state.inside.stage + 1));
  root.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isControl(e.target)) return;
    const onPanel = e.target === root;  // arrows only when no control inside has the focus
    let delta = 0;
    if (e.key === ']' || (onPanel && e.key === 'ArrowRight')) delta = 1;
    else if (e.key === '[' || (onPanel && e.key === 'ArrowLeft')) delta = -1;
    if (!delta) return;
    e.preventDefault();  // (and the page's → does not step the decoder)
    store.actions.setInside({ stage: store.state.inside.stage + delta });
  });

  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const c = model.config;
      const inside = store.state.inside;
      const row = selection.row;
      const record = trace?.inside?.[row] ?? null;
      const { kind, layer, head, stage } = inside;
      for (const b of kindButtons) {
        setProperty(b, 'hidden', b.dataset.kind === 'cross' && !model.encoderDecoder);
        setAttribute(b, 'aria-pressed', String(b.dataset.kind === kind));
      }
      pills.forEach((p, k) => setAttribute(p, 'aria-current', String(k === stage)));
      setProperty(prev, 'disabled', stage === 0);
      setProperty(next, 'disabled', stage === HEAD_STAGES.length - 1);
      setText(title, `Inside one head · ${HEAD_KIND[kind].toLowerCase()} · layer ${layer + 1}, head ${head + 1}`);
      if (!memo.changed(trace, trace?.inside?.length, row, kind, layer, head, stage, inside.counterpart, model)) return;
      if (!record) {
        setText(note, trace?.strategy === 'beam' ? BEAM_NOTE : NO_STEP_NOTE);
        patch(body, []);
        return;
      }
      setText(note, record.teacherForced && !record.prompt
        ? `Row ${row} of the teacher-forced pass (reads ${trace.queries[row]}).`
        : rowNote({ row, token: trace.queries[row], produced: trace.produced[row], teacherForced: record.teacherForced, prompt: record.prompt, promptRows: trace.promptRows }));
      patch(body, draw({ trace, record, c, kind, layer, head, stage, inside, store, row }));
    },
  };
}

function draw({ trace, record, c, kind, layer, head, stage, inside, store, row }) {
  const d = c.d_model;
  const dk = d / c.n_heads;
  const from = head * dk;
  const to = from + dk;
  const L = record.layers[layer];
  const H = L.heads[head][kind];
  const keyRows = kind === 'self' ? L.cache.rows : trace.insideShared.cross[layer].rows;
  const keyLabels = kind === 'self' ? trace.queries.slice(0, keyRows) : trace.input;
  const keysData = kind === 'self' ? L.cache.key : trace.insideShared.cross[layer].key;
  const n = H.raw.length;
  const labels = keyLabels.slice(0, n);
  const params = { kind, layer, head, dk, keys: keyRows, heads: c.n_heads, dModel: d, teacherForced: record.teacherForced, causal: trace.causal !== false };
  const sections = [];
  const section = (k, ...content) => {
    const s = HEAD_STAGES[k];
    sections.push(h('section', { class: `stage${k === stage ? ' current' : ''}`, 'data-stage': s.id },
      h('h4', {}, `${k + 1}. ${s.title}`), h('p', { class: 'stage-text' }, s.text(params)), ...content));
  };
  const caption = (text) => h('div', { class: 'vector-caption' }, text);
  for (let k = 0; k <= stage; k++) {
    switch (HEAD_STAGES[k].id) {
      case 'qk':
        section(k,
          caption(`q (head ${head + 1}: columns ${from}…${to - 1} of ${kind}_attention.query)`),
          strip(L.vectors[`${kind}_attention.query`].slice(from, to), { name: 'q', className: 'wide' }),
          caption(kind === 'self'
            ? (record.teacherForced ? 'K: the keys of the whole pass (self_attention.key), one row per position' : 'K: the cached keys (cache.key), one row per position')
            : `K: the cross-attention keys (${record.teacherForced ? 'cross_attention.key' : 'cross_cache.key'}), one row per letter`),
          matrixRows(keysData, { rows: keyRows, cols: d, from, to, labels: keyLabels, name: 'k', marked: kind === 'self' && !record.teacherForced ? keyRows - 1 : -1 }));
        break;
      case 'raw':
        section(k, numberCells(H.raw, { labels, name: 'q·k' }));
        break;
      case 'scaled':
        section(k, numberCells(H.scaled, { labels, name: 'q·k/√d_k' }));
        break;
      case 'mask':
        section(k, ...maskStage({ trace, record, H, kind, labels, layer, head, inside, store, row }));
        break;
      case 'weights':
        section(k, numberCells(H.weights, { labels, name: 'w', weights: true }));
        break;
      case 'context': {
        // The sum term by term: each value row (this head's columns of the cache) beside its weight.
        const values = kind === 'self' ? L.cache.value : trace.insideShared.cross[layer].value;
        const valueName = kind === 'self' ? 'cache.value' : 'cross_cache.value';
        const weighted = labels.map((label, j) => `w=${H.weights[j].toFixed(3)} · ${label}`);
        section(k,
          caption(`the weights w_j (softmax) and V: ${valueName}, columns ${from}…${to - 1}, one row per ${kind === 'self' ? 'position' : 'letter'}`),
          numberCells(H.weights, { labels, name: 'w', weights: true }),
          matrixRows(values, { rows: n, cols: d, from, to, labels: weighted, name: 'v' }),
          caption(`Σ w_j v_j (columns ${from}…${to - 1} of ${kind}_attention.context)`),
          strip(L.vectors[`${kind}_attention.context`].slice(from, to), { name: 'head output', className: 'wide' }));
        break;
      }
      case 'concat':
        section(k, caption(`${kind}_attention.context: ${c.n_heads} × ${dk} = ${d}`),
          strip(L.vectors[`${kind}_attention.context`], { name: 'concat', from, to }));
        break;
      case 'output':
        section(k, caption(`${kind}_block.output = W_O · concat + b_O`),
          strip(L.vectors[`${kind}_block.output`], { name: `${kind}_block.output` }));
        break;
      default:
    }
  }
  return sections;
}

// The mask sub-step: the mask row of a teacher-forced record; for a stepped row, no mask, and on request
// the teacher-forced counterpart of the same row (session.teacherCounterpart), where the −∞ appear.
function maskStage({ record, H, kind, labels, layer, head, inside, store, row }) {
  if (kind === 'cross') return [];
  if (record.teacherForced) return maskRows(H, labels);
  const toggle = h('button', {
    type: 'button', class: 'button button-small', 'aria-pressed': String(inside.counterpart), id: 'inside-counterpart',
    on: { click: () => store.actions.setInside({ counterpart: !store.state.inside.counterpart }) },
  }, inside.counterpart ? 'Hide the teacher-forced row' : 'Show the teacher-forced counterpart');
  const out = [toggle];
  if (!inside.counterpart) return out;
  const cp = store.state.session?.teacherCounterpart(row);
  if (!cp) {
    out.push(h('p', { class: 'stage-text' }, 'These tokens cannot be fed back as text (a special token was chosen), so there is no teacher-forced counterpart.'));
    return out;
  }
  const cpHead = cp.layers[layer].heads[head].self;
  out.push(h('p', { class: 'stage-text' }, `The teacher-forced pass over ${cp.tokens.join(' ')}: row ${row}.` +
    (cpHead.mask.includes(-Infinity) ? '' : ' It is the last row of that sequence: no later position to hide.')));
  out.push(...maskRows(cpHead, cp.tokens, 'counterpart '));
  return out;
}

function maskRows(H, labels, prefix = '') {
  const masked = Float32Array.from(H.scaled, (x, j) => x + H.mask[j]);  // x + 0, or −∞
  const caption = (text) => h('div', { class: 'vector-caption' }, text);
  return [
    caption(`${prefix}scores ÷ √d_k`), numberCells(H.scaled, { labels, name: `${prefix}q·k/√d_k` }),
    caption(`${prefix}mask`), numberCells(H.mask, { labels, name: `${prefix}mask` }),
    caption(`${prefix}scores + mask`), numberCells(masked, { labels, name: `${prefix}scores + mask` }),
    caption(`${prefix}softmax`), numberCells(H.weights, { labels, name: `${prefix}w`, weights: true }),
  ];
}
