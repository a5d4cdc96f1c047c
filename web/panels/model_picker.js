// The model picker in the masthead: the shipped models (the built-in one; the second, fetched when chosen)
// and the user's latest two, and
// the "Load model…" file button.
import { el } from '../tooltip.js';
import { Memo, setProperty } from './util.js';

export function create(root, store) {
  const select = root.querySelector('#model-select');
  const file = root.querySelector('#model-file');
  const memo = new Memo();
  return {
    update() {
      const { models, modelId, loading } = store.state;
      setProperty(file, 'disabled', Boolean(loading));
      setProperty(select, 'disabled', models.length === 0 || Boolean(loading));
      if (!memo.changed(models.map((m) => `${m.id}${m.model ? '' : '?'}`).join(' '), modelId)) return;
      select.replaceChildren(...models.map((m) => {
        // a shipped model not loaded yet: its file name, fetched when chosen
        if (!m.model) return el('option', { value: m.id }, `${m.name.replace(/\.safetensors$/, '')} · decoder-only · loads when chosen`);
        const c = m.model.config;
        const size = m.model.parameters >= 1e5 ? `${(m.model.parameters / 1e6).toFixed(2)}M` : `${(m.model.parameters / 1e3).toFixed(1)}k`;
        const kind = m.model.encoderDecoder ? 'encoder–decoder' : 'decoder-only';
        const label = m.builtin ? `${c.name ?? m.name} · ${kind} · ${size} params` : `${m.name} · ${size} params · your file`;
        return el('option', { value: m.id }, label);
      }));
      select.value = String(modelId);
    },
  };
}
