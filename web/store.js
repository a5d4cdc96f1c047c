// The page's state, in one object, and the one render loop that draws it.
//
// Everything on the page is drawn from `store.state` and the current session's trace. Code that changes
// the state (web/actions.js) calls store.render() when it is done; render() hands every panel
// (web/panels/) the trace and the selection, and each redraws only what changed since it last drew.

export function createStore() {
  const panels = [];
  const store = {
    state: {
      models: [],             // { id, name, model, builtin }
      modelId: 0,
      model: null,            // the model in use (web/stepwise.js)
      session: null,          // a DecoderSession (web/session.js): the word run through the model
      word: '',
      invention: null,        // { seed }: the decoder-only model invents a word (no prompt) instead
      engineInfo: null,       // { version, kernels }: Stepwise.info(), asked once the page is interactive
      headwords: null,        // every CMUdict headword, Map word -> split, once read (the first invention asks); false: unreadable
      compare: null,          // the two models' alignment of one word: { word, loading, result, error, selection }
      compareEpoch: 0,
      wordSet: 0,             // counts the times the page chose the word: the word box then shows it
      words: new Map(),       // held-out test words -> dictionary pronunciations (read after the page is interactive)
      wordsLoaded: false,     // true once they are in (web/actions.js wordsArrived)
      settings: null,         // the form's decoding settings, as last read (actions.readSettings)
      target: { text: '', source: '', word: null },  // what teacher forcing feeds, for which word
      view: 'self',           // the matrix enlarged: 'mask' | 'self' | 'cross' | 'encoder'
      maskOrder: 'query-key', // how the causal-mask tab draws the mask: 'query-key' (PyTorch) | 'key-query' (the course)
      selection: {},          // view -> { layer, head } (head: number or 'mean')
      selectedRow: null,      // the decoder row looked at; null: follow the latest step
      // "Open the box" (web/panels/inside_head.js, residual.js, code.js, kv_cache.js): the layer and head
      // looked inside, which attention the head walk shows, its sub-step, whether it shows the
      // teacher-forced counterpart of a stepped row, and the box of the diagram lit
      inside: { layer: 0, head: 0, kind: 'self', stage: 0, counterpart: false, box: 'self' },
      playing: false,
      playEpoch: 0,
      timer: 0,
      loadEpoch: 0,
      loading: '',            // the model being loaded, '' when none
      message: null,          // { text, kind: 'error' | 'info' }
      lastPointerDown: 0,
      started: false,         // true once a word was decoded (or tried): until then the stage keeps its HTML
      engine: null,           // the engine's compilation (a promise); every load waits for it
      reach: null,            // { key, steps, done }: the furthest step this word reached with these settings (the scrubber's end)
      tourStop: null,         // the guided tour's stop shown, from 1 as its card counts (web/tour.js; null: no tour), kept in the link
      paint: null,            // { session, steps, ms }: the last step's time from input to frame (web/paint_timing.js)
    },

    /** Set by web/app.js: what panels call to change the state (web/actions.js). */
    actions: null,

    /** The current session's trace, or null. */
    get trace() {
      return store.state.session?.trace ?? null;
    },

    /** Whether the page decodes step by step: the mode chosen is, or a model invents a word (always stepped). */
    stepping() {
      return store.state.settings?.mode === 'steps' || store.state.invention !== null;
    },

    /** The decoder row shown: the one selected, else the latest; -1 before the first step. */
    currentRow() {
      const t = store.trace;
      if (!t || t.queries.length === 0) return -1;
      const latest = t.queries.length - 1;
      const selected = store.state.selectedRow;
      return selected !== null && selected <= latest ? selected : latest;
    },

    /**
     * What the learner is looking at, as the panels receive it: the view, its layer and head, the row,
     * and the layer/head chosen for every view (the letters are shaded by cross-attention whatever the
     * view).
     */
    selection() {
      const { view, selection } = store.state;
      const here = selection[view] ?? { layer: 0, head: 'mean' };
      return { view, layer: here.layer, head: here.head, row: store.currentRow(), byView: selection, maskOrder: store.state.maskOrder };
    },

    /** Adds a panel ({ update(trace, selection) }) to the render loop, in drawing order. */
    add(panel) {
      panels.push(panel);
      return panel;
    },

    /** While render() lets big panels off screen wait (web/offscreen.js): false, true or 'idle'. */
    offscreenLater: false,

    /**
     * Draws the state. `offscreenLater`: the big panels off screen may be drawn right after the next frame
     * (true: a decoder step, Step, →, Play), or once the browser is idle after it ('idle': the first word at
     * start-up), so that frame comes sooner.
     */
    render({ offscreenLater = false } = {}) {
      const trace = store.trace;
      const selection = store.selection();
      store.offscreenLater = offscreenLater;
      try {
        for (const panel of panels) panel.update(trace, selection);
      } finally {
        store.offscreenLater = false;
      }
    },
  };
  return store;
}
