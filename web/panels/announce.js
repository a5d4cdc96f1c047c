// Says each decoder step aloud to screen readers: a visually hidden, polite live region (role=status)
// that reads "Step 3: AY1, p = 0.93" when a step writes a token, and how the word ended when the decoder
// is done. One message per step; while playing, at most one every PLAYING_GAP_MS (the latest step then),
// so that a fast play does not flood the listener. A new word, a reset or a replay says nothing: only steps
// taken in the trace shown are told.

const PLAYING_GAP_MS = 1500;

const probability = (p) => (p >= 0.005 ? `p = ${p.toFixed(2)}` : 'p < 0.01');
const tokenName = (token) => (token === '</s>' ? 'end of sequence (</s>)' : token);

/** What to say when the trace went from `before` steps to its current count (web/session.js trace). */
export function announcement(trace, before, outputText) {
  const steps = trace.stepMs.length;
  const beam = trace.strategy === 'beam';
  let text;
  if (steps - before > 1) {
    text = `Ran ${steps - before} steps, to step ${steps}.`;
  } else if (beam) {
    text = `Beam step ${steps}: best hypothesis ${outputText || '(empty)'}.`;
  } else {
    const row = trace.produced.length - 1;
    const dist = trace.dist[row];
    text = `Step ${steps}: ${tokenName(trace.produced[row])}, ${probability(dist.probs[dist.chosen])}.`;
  }
  if (trace.done) text += ` Done after ${steps} steps: ${outputText || '(nothing written)'}.`;
  return text;
}

export function create(root, store) {
  const region = document.createElement('div');
  region.id = 'announcer';
  region.className = 'sr-only';
  region.setAttribute('role', 'status');
  region.setAttribute('aria-live', 'polite');
  region.setAttribute('aria-atomic', 'true');
  root.append(region);

  let shownFor = null;  // the trace whose steps are counted
  let steps = 0;
  let pending = '';
  let lastAt = -Infinity;
  let timer = 0;
  const flush = () => {
    timer = 0;
    if (!pending) return;
    region.textContent = pending;
    pending = '';
    lastAt = performance.now();
  };
  const say = (text, throttled) => {
    pending = text;
    const wait = throttled ? lastAt + PLAYING_GAP_MS - performance.now() : 0;
    if (wait <= 0) {
      clearTimeout(timer);
      flush();
    } else if (!timer) {
      timer = setTimeout(flush, wait);
    }
  };

  return {
    update(trace) {
      if (trace !== shownFor) {
        shownFor = trace;
        steps = trace?.stepMs.length ?? 0;
        pending = '';  // a step of the trace no longer shown is not worth saying
        return;
      }
      if (!trace || trace.mode !== 'steps') return;
      const now = trace.stepMs.length;
      if (now <= steps) return;
      const text = announcement(trace, steps, store.state.session?.outputText() ?? '');
      steps = now;
      say(text, store.state.playing && !trace.done);
    },
  };
}
