// window.stepwiseState, for tests and the curious: a read-only snapshot of what the page shows (the
// matrices drawn, the tokens, the message), as plain arrays. Reading it changes nothing.
import { viewData } from './panels/matrix.js';
import { toHash } from './url_state.js';
import { trainingSnapshot } from './training.js';

const plainRows = (rows) => rows.map((r) => Array.from(r));

export function snapshot(store) {
  const state = store.state;
  const s = state.session;
  const t = s?.trace;
  const c = state.model?.config;
  const entry = state.models.find((m) => m.id === state.modelId);
  const all = (view, layers) => (t
    ? Array.from({ length: layers }, (_, l) => Array.from({ length: c.n_heads }, (_, h) => plainRows(viewData(t, view, { layer: l, head: h }).rows)))
    : []);
  const sel = state.selection[state.view];
  const drawn = t ? viewData(t, state.view, { ...sel, maskOrder: state.maskOrder }) : null;
  return {
    // (ready: the model in use and nothing left to load; the page is interactive before, once Step is enabled)
    ready: Boolean(state.model) && !state.loading && state.wordsLoaded,
    wordsLoaded: state.wordsLoaded,
    loading: state.loading,
    playing: state.playing,
    model: state.model ? {
      name: entry?.name, config: c.name, builtin: entry?.builtin,
      parameters: state.model.parameters, encoderLayers: c.n_encoder_layers, decoderLayers: c.n_decoder_layers, heads: c.n_heads,
      maxTargetLen: c.max_target_len,
    } : null,
    models: state.models.map((m) => m.name),
    modelsLoaded: state.models.map((m) => Boolean(m.model)),
    invented: t?.invented ? (() => {
      const invented = s.invented();
      // the split of CMUdict that holds the word, null for a new word, undefined until the headwords are read
      const headword = state.headwords instanceof Map ? (state.headwords.get(invented.word) ?? null) : undefined;
      return { ...invented, seed: s.settings.seed, tokens: [...t.produced], headword };
    })() : null,
    compare: state.compare?.result ? (() => {
      const { result, selection } = state.compare;
      const side = (key) => ({ ...selection[key], model: result[key].model, letters: [...result[key].letters], phonemes: [...result[key].phonemes], rows: result[key].rows.map((layer) => layer.map(plainRows)) });
      return { word: result.word, encoderDecoder: side('encoderDecoder'), decoderOnly: side('decoderOnly') };
    })() : state.compare ? { word: state.compare.word, loading: state.compare.loading, error: state.compare.error } : null,
    word: state.word,
    mode: t?.mode ?? state.settings?.mode,
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
    selectedRow: store.currentRow(),
    view: state.view,
    selection: sel ? { ...sel } : null,
    drawn: drawn ? {
      view: state.view, rows: plainRows(drawn.rows), rowLabels: [...drawn.rowLabels], colLabels: [...drawn.colLabels],
      rowAxis: drawn.rowAxis ?? null, colAxis: drawn.colAxis ?? null,
    } : null,
    maskOrder: state.maskOrder,
    selfAttention: all('self', c?.n_decoder_layers ?? 0),
    crossAttention: state.model?.encoderDecoder ? all('cross', c.n_decoder_layers) : [],  // decoder-only: none
    promptRows: t ? t.promptRows : 0,
    encoderAttention: all('encoder', c?.n_encoder_layers ?? 0),
    teacher: t?.teacher ? { ...t.teacher, fed: state.target.text } : null,
    // teacher forcing as training (web/training.js), the matrices of the self-attention view's layer and head
    training: t?.training ? trainingSnapshot(t, state.selection.self) : null,
    inside: { ...state.inside },
    tourStop: state.tourStop,
    address: state.model ? `#${toHash(state)}` : '',  // what the address (#…) holds once the page has written it
    beams: t?.beams ? {
      live: t.beams.live.map((b) => b.text), results: t.beams.results.map((b) => b.text),
      width: t.beams.width, lengthPenalty: t.beams.lengthPenalty,
      // every step's kept hypotheses: { live, finished }, each { tokens, logProb, score, finished, parent }
      steps: t.beams.steps.map((step) => Object.fromEntries(['live', 'finished'].map((kind) => [kind, step[kind].map((h) => ({
        tokens: [...h.tokens], logProb: h.logProb, score: h.score, finished: h.finished, parent: h.parent,
      }))]))),
    } : null,
  };
}
