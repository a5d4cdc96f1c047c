// Beside the causal mask: the same mask in PyTorch, and where it enters attention (shown on the mask tab).
import { el } from '../tooltip.js';
import { Memo, setProperty } from './util.js';

export function create(root, store) {
  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const shown = selection.view === 'mask' && Boolean(trace);
      setProperty(root, 'hidden', !shown);
      if (!shown || !memo.changed(model, trace.queries.length, trace.causal)) return;
      const n = trace.queries.length;
      const c = model.config;
      const dk = c.d_model / c.n_heads;
      const comment = (text) => el('span', { class: 'comment' }, text);
      root.replaceChildren(
        comment('# the lesson\'s mask: True where a query may not look (keys as rows)'), '\n',
        'future = torch.triu(torch.ones(n, n)) == 0', '\n',
        comment(`# as PyTorch adds it to the scores, [query, key] (n = ${n}):`), '\n',
        trace.causal ? 'M = nn.Transformer.generate_square_subsequent_mask(n)' : 'M = torch.zeros(n, n)', trace.causal ? '' : comment('   # mask switched off'), '\n',
        trace.causal ? comment('#   = torch.triu(torch.full((n, n), -torch.inf), diagonal=1)') : '', trace.causal ? '\n' : '',
        `attention = softmax(Q Kᵀ / √${dk} + M) V`, '   ', comment(`# d_k = ${c.d_model} / ${c.n_heads} heads`),
      );
    },
  };
}
