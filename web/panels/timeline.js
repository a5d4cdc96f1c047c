// Moving through time: the Back button (the mask shrinks again) and the scrubber, which jumps to any step
// from 0 to the furthest one this word has reached with these settings (state.reach; its finished length
// once it is done). Step by step only: teacher forcing has no steps.
import { Memo, setAttribute, setProperty, setText } from './util.js';

export function create(root, store) {
  const back = root.querySelector('#back');
  const scrubber = root.querySelector('#scrubber');
  const scrub = root.querySelector('#scrub');
  const value = root.querySelector('#scrub-value');
  const memo = new Memo();
  return {
    update() {
      const { model, loading, session: s, settings, reach } = store.state;
      if (!settings) return;
      const stepping = store.stepping();
      const ready = Boolean(model) && !loading && Boolean(s) && s.trace.mode === 'steps';
      const steps = ready ? s.steps : 0;
      const end = ready ? Math.max(steps, reach?.steps ?? 0) : 0;
      setProperty(back, 'hidden', !stepping);
      setProperty(scrubber, 'hidden', !stepping);
      setProperty(back, 'disabled', !ready || steps === 0);
      setProperty(scrub, 'disabled', !ready || end === 0);
      if (!memo.changed(steps, end)) return;
      setProperty(scrub, 'max', String(end));
      setProperty(scrub, 'value', String(steps));
      setText(value, `${steps} / ${end}`);
      setAttribute(scrub, 'aria-valuetext', `step ${steps} of ${end}`);
    },
  };
}
