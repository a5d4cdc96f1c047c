// The code beside the lit box (store.state.inside.box): the PyTorch it corresponds to, with the loaded
// model's hyper-parameters (web/inside_texts.js pytorchLines), and the engine's own C++ for it: the marked
// regions of src/engine/transformer.cpp that tools/build_site.mjs writes into site/engine_source.js
// (globalThis.stepwiseEngineSource; tests/browser/code.test.mjs keeps them equal to the source).
import { BOX_REGIONS, CODE_MISSING, pytorchLines } from '../inside_texts.js';
import { el } from '../tooltip.js';
import { Memo } from './util.js';

export function create(root, store) {
  const torch = root.querySelector('#code-torch');
  const engine = root.querySelector('#code-engine');
  const memo = new Memo();
  return {
    update() {
      const model = store.state.model;
      if (!model) return;
      const { box } = store.state.inside;
      if (!memo.changed(model, box)) return;
      torch.replaceChildren(...pytorchLines(box, model.config).map((line) => el('span', { class: 'code-line' }, line)));
      const source = globalThis.stepwiseEngineSource;
      if (!source) {
        engine.replaceChildren(el('p', { class: 'stage-text' }, CODE_MISSING));
        return;
      }
      const blocks = [];
      for (const name of BOX_REGIONS[box] ?? []) {
        const region = source.regions[name];
        if (!region) continue;
        blocks.push(el('figure', { class: 'code-region', 'data-region': name },
          el('figcaption', { class: 'dim' }, `${source.file}:${region.line}–${region.line + region.lines.length - 1}`),
          el('pre', { class: 'code', tabindex: '0' }, region.lines.map((line, k) => el('span', { class: 'code-line', 'data-line': String(region.line + k) }, line)))));
      }
      engine.replaceChildren(...blocks);
    },
  };
}
