// The footer's line on the engine and the model in use: the engine's version and kernels (asked once the
// page is interactive: store.state.engineInfo, web/app.js), then the name and size of the model chosen.
import { Memo, setText } from './util.js';

export function create(root, store) {
  const line = root.querySelector('#engine-info');
  const memo = new Memo();
  return {
    update() {
      const { engineInfo: info, model, models, modelId } = store.state;
      if (!info || !model || !memo.changed(info, model)) return;
      const name = models.find((m) => m.id === modelId)?.name ?? model.config.name;
      setText(line, `Engine ${info.version}, kernels ${info.kernels}; model ${name}, ${model.parameters.toLocaleString('en')} parameters.`);
    },
  };
}
