// The page's panels: one module per visual, each in this folder and named for what it shows.
//
// The contract. A panel module exports
//
//   create(root, store) -> { update(trace, selection) }
//
// create() gets the element the panel draws in (from index.html) and the store (web/store.js: the state,
// and store.actions to change it); it builds what never changes and wires the panel's own clicks to
// store.actions. update() is called by store.render() after every change, with the session's trace (or
// null) and the selection ({ view, layer, head, row, byView, maskOrder }); it compares what it needs with what it
// last drew (util.js Memo) and redraws only what changed, so a step redraws what the step changed.
// update() writes and does not read the layout: a panel that needs a width keeps the one a
// ResizeObserver last reported (matrix.js, heads.js). The big panels marked OFFSCREEN below get a step's
// update right after the frame that shows it when they are off screen (web/offscreen.js), so update()
// must draw any state from any earlier one (as after a scrubber jump).
//
// The four tabs of the explorer are views of the enlarged matrix (matrix.js): mask.js,
// self_attention.js, cross_attention.js and encoder_attention.js say what each shows; their words and
// explanations are in web/views.js. Under the mask, mask_tensors.js shows the course's expression and
// PyTorch's mask as tensors, and the switch that draws the mask in either order.
//
// invent.js: a decoder-only G2P model writes a word of its own from <s> alone. alignment.js: the two
// shipped models' alignments of one word, cross-attention beside self-attention over the letters.
//
// "Open the box" shows every number of the decoder row shown, as the engine's probe recorded it
// (session.js, run.inside()): open_controls.js (layer and head), residual.js (the block diagram, every
// box live: its input and output vectors), code.js (the PyTorch and the engine's C++ of the lit box),
// inside_head.js (one attention head in sub-steps) and kv_cache.js; their words are in web/inside_texts.js.
//
// In teacher-forcing mode, training.js shows the pass as training sees it (web/training.js computes it,
// web/training_texts.js words it): the loss per position, one pass vs step by step, exposure bias.
// The guided tour (tour.js; its stops and words in web/tour.js) walks the lesson's ideas over all of these.
import * as message from './message.js';
import * as lede from './lede.js';
import * as modelPicker from './model_picker.js';
import * as word from './word.js';
import * as settings from './settings.js';
import * as transport from './transport.js';
import * as timeline from './timeline.js';
import * as letters from './letters.js';
import * as output from './output.js';
import * as tabs from './tabs.js';
import * as diagram from './diagram.js';
import * as matrix from './matrix.js';
import * as legend from './legend.js';
import * as formula from './formula.js';
import * as maskTensors from './mask_tensors.js';
import * as compare from './compare.js';
import * as heads from './heads.js';
import * as probabilities from './probabilities.js';
import * as beams from './beams.js';
import * as beamTree from './beam_tree.js';
import * as phonemeNote from './phoneme_note.js';
import * as openControls from './open_controls.js';
import * as insideHead from './inside_head.js';
import * as residual from './residual.js';
import * as code from './code.js';
import * as kvCache from './kv_cache.js';
import * as announce from './announce.js';
import * as training from './training.js';
import * as tour from './tour.js';
import * as invent from './invent.js';
import * as alignment from './alignment.js';
import * as footer from './footer.js';

// On a decoder step, drawn at once only when on screen, else right after the frame that shows the step
// (web/offscreen.js): the big panels, which a visitor sees one group at a time.
const OFFSCREEN = true;

// Each panel, the element it draws in, in drawing order, and whether it waits while off screen.
const PANELS = [
  [message, '#message'],
  [lede, 'body'],
  [modelPicker, '.model-picker'],
  [word, '.word-card'],
  [invent, '.word-card'],
  [settings, '.settings-card'],
  [transport, '.decoder-card'],
  [timeline, '.decoder-card'],
  [letters, '.decoder-card'],
  [output, '.decoder-card'],
  [phonemeNote, '#phoneme-note'],
  [tabs, '#view-tabs'],
  [diagram, '.block-panel', OFFSCREEN],
  [matrix, '.main-view', OFFSCREEN],
  [legend, '#legend'],
  [formula, '#formula'],
  [maskTensors, '#mask-tensors'],
  [compare, '#compare'],
  [heads, '#heads-panel', OFFSCREEN],
  [probabilities, '#next-panel', OFFSCREEN],
  [beams, '#beams'],
  [beamTree, '#beam-tree'],
  // The two shipped models side by side
  [alignment, '#alignment'],
  // Open the box: every number of one decoder step
  [openControls, '#open-box'],
  [residual, '#residual-panel', OFFSCREEN],
  [code, '#code-panel', OFFSCREEN],
  [insideHead, '#inside-head', OFFSCREEN],
  [kvCache, '#kv-cache', OFFSCREEN],
  // For screen readers: each step said aloud (a polite live region)
  [announce, 'body'],
  // The engine and the model in use, in the footer
  [footer, '.footer'],
  // Teacher forcing as training: the loss, one pass vs step by step, exposure bias
  [training, '#training'],
  // The guided tour, last: its callout is placed over what the panels above have drawn
  [tour, '#tour-entry'],
];

/**
 * Creates every panel and adds it to the store's render loop; the big ones wait while off screen
 * (web/offscreen.js: `offscreen`, whose flush() brings them up to date).
 */
export function createPanels(store, offscreen) {
  for (const [panel, selector, gated] of PANELS) {
    const root = document.querySelector(selector);
    const made = panel.create(root, store);
    store.add(gated ? offscreen.gate(made, root) : made);
  }
}
