// Panels that wait while they are off screen (issue 10 §7: a step must reach the screen within a frame).
//
// A step changes every panel, but a visitor sees only the part of the page in the window: at the top,
// the decoder's output and the enlarged matrix; scrolled down, "Open the box". When the store draws a
// decoder step (Step, →, Play) or the first word at start-up (store.render({ offscreenLater: true })),
// a panel gated here is updated at once only while some of it is in the window (or within `margin` of
// it); otherwise the (trace, selection) is kept and the panel is brought up to date in a task of its own
// right after the frame that shows the change is painted, or as soon as it comes into the window,
// whichever is first (a panel so waits about one frame: a scroll in that frame shows it a step behind,
// for that frame). So a click waits only for what it shows, and the rest of the page (which screen
// readers read too) is current a moment later. Steps asked for faster than frames draw an off-screen
// panel once, for the latest; panels compare with what they last drew (web/panels/util.js Memo), so
// skipping the steps in between is the same as a scrubber jump.
//
// At start-up the first word is drawn the same way (store.render({ offscreenLater: 'idle' })), except that
// the panels off screen wait for the browser to be idle after that frame, not only for the frame: the page's
// first frame with Step enabled, and a click that follows it at once, come before them. Whether a panel is
// off screen is known only from the observer's first report, in the first frame after the panels were made:
// until then every panel counts as near (none is kept waiting on a guess), so the page waits for that report
// (observed()) before drawing its first word.
//
// Any other change (a setting, a click in a panel, a word) draws every panel at once, as before. Not
// gated: anything while the guided tour is open (its callout is placed over what the panels have
// drawn), and every panel where there is no IntersectionObserver. flush() brings every waiting panel up
// to date now (window.stepwiseState calls it: a snapshot describes what the page shows).
import { afterNextFrame, whenIdle } from './paint_timing.js';

export function createOffscreen(store, { margin = '0px' } = {}) {
  const gates = [];  // { element, panel, near, pending: [trace, selection] | null }
  let scheduled = false;      // a flush right after the next frame
  let idleScheduled = false;  // a flush once the browser is idle after it
  let reported;
  const firstReport = new Promise((resolve) => (reported = resolve));

  const run = (gate) => {
    const args = gate.pending;
    gate.pending = null;
    if (args) gate.panel.update(...args);
  };

  const observer = typeof IntersectionObserver === 'function'
    ? new IntersectionObserver((entries) => {
      for (const entry of entries) {
        for (const gate of gates) {
          if (gate.element !== entry.target) continue;
          gate.near = entry.isIntersecting;
          if (gate.near) run(gate);
        }
      }
      reported();
    }, { rootMargin: `${margin} 0px` })
    : null;

  const flush = () => {
    for (const gate of gates) run(gate);
  };

  const later = (idle) => {
    if (idle) {
      if (idleScheduled) return;
      idleScheduled = true;
      afterNextFrame(() => whenIdle(() => {
        idleScheduled = false;
        flush();
      }));
      return;
    }
    if (scheduled) return;
    scheduled = true;
    afterNextFrame(() => {
      scheduled = false;
      flush();
    });
  };

  return {
    /** The panel, updated as above; `element` is the box it draws in (its nearness to the window counts). */
    gate(panel, element) {
      if (!observer || !element) return panel;
      // near: true until the observer's first report (a panel is not kept waiting on a guess)
      const gate = { element, panel, near: true, pending: null };
      gates.push(gate);
      observer.observe(element);
      return {
        update(trace, selection) {
          if (gate.near || !store.offscreenLater || store.state.tourStop !== null) {
            gate.pending = null;
            panel.update(trace, selection);
          } else {
            gate.pending = [trace, selection];
            later(store.offscreenLater === 'idle');
          }
        },
      };
    },
    flush,
    /**
     * Resolves once the observer has said which panels are off screen (its first report, in the first
     * frame after they were made), or after `timeout` ms (a page in a background tab makes no frames; its
     * panels then all count as near), or at once where there is no observer.
     */
    observed(timeout = 250) {
      if (!observer || gates.length === 0) return Promise.resolve();
      return Promise.race([firstReport, new Promise((resolve) => setTimeout(resolve, timeout))]);
    },
  };
}
