// The legend under the matrix: the viridis scale from 0 to 1 and the hatching of masked cells, or, on the
// causal-mask tab, the two values the mask adds. The words come from the view (panels/mask.js, ...).
import { viridis } from '../colormap.js';
import { MATRICES } from './matrix.js';
import { Memo, setProperty, setText } from './util.js';

/** Paints the viridis scale, left to right. */
function paintScale(canvas) {
  const ctx = canvas.getContext('2d');
  for (let x = 0; x < canvas.width; x++) {
    const [r, g, b] = viridis(x / (canvas.width - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

export function create(root, store) {
  paintScale(root.querySelector('#legend-bar'));
  const scaleParts = [...root.querySelectorAll('.legend-label, canvas')];
  const caption = root.querySelector('.legend-caption');
  const masked = root.querySelector('.legend-masked');
  const memo = new Memo();
  return {
    update(trace, selection) {
      if (!store.state.model) return;
      const legend = MATRICES[selection.view].legend(trace);
      if (!memo.changed(legend.scale, legend.caption, legend.masked, legend.showMasked)) return;
      root.classList.toggle('mask-legend', !legend.scale);
      setText(caption, legend.caption);
      for (const part of scaleParts) setProperty(part, 'hidden', !legend.scale);
      if (masked.lastChild.textContent !== legend.masked) masked.lastChild.textContent = legend.masked;
      setProperty(masked, 'hidden', !legend.showMasked);
    },
  };
}
