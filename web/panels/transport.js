// The transport under the pronunciation: Step, Play, Run to end, Reset and the speed (step by step), or
// the note that teacher forcing has no steps; and the status line, with the time per step: the engine's
// and the paint's (from the input to the next frame, web/paint_timing.js).
import { Memo, milliseconds, setAttribute, setProperty, setText } from './util.js';
import { teacherNote } from '../views.js';

const TIMING_TITLE = 'engine: the decoder step itself, run.step() in WebAssembly. paint: from your click or key press ' +
  '(while playing, from the start of the step) to the next frame, with everything the page draws for the step.';

export function create(root, store) {
  const $ = (id) => root.querySelector(`#${id}`);
  const buttons = ['step', 'play', 'run', 'reset'].map($);
  const [step, play, run, reset] = buttons;
  const keys = root.querySelector('.status-line .keys');
  const timingMemo = new Memo();
  return {
    update(trace) {
      const { model, loading, session: s, settings, playing, message } = store.state;
      if (!settings) return;
      const ready = Boolean(model) && !loading;
      const stepping = store.stepping();
      setProperty(step, 'disabled', !ready || !s || !stepping || s.done);
      setProperty(run, 'disabled', !ready || !s || !stepping || s.done);
      setProperty(play, 'disabled', !ready || !s || !stepping);
      setProperty(reset, 'disabled', !ready || !stepping || (!s && !message));
      setText(play, playing ? 'Pause' : s?.done ? 'Replay' : 'Play');
      setAttribute(play, 'aria-pressed', String(playing));
      for (const button of buttons) setProperty(button, 'hidden', !stepping);
      setProperty($('speed').parentElement, 'hidden', !stepping);
      setProperty($('transport-note'), 'hidden', stepping);
      if (!stepping) setText($('transport-note'), teacherNote(trace ? trace.causal : settings.causal));
      setProperty(keys, 'hidden', !stepping);

      // Time per step: the engine's (run.step()) and, once measured, the paint's (web/paint_timing.js).
      const p = store.state.paint;
      const paint = p && p.session === s && p.steps === trace?.stepMs.length ? p.ms : null;
      if (!store.state.started || !timingMemo.changed(trace, trace?.stepMs.length, paint)) return;
      let timing = '';
      if (trace?.stepMs.length) {
        const last = trace.stepMs[trace.stepMs.length - 1];
        const sorted = [...trace.stepMs].sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)];
        timing = trace.mode === 'teacher'
          ? `one parallel pass over ${trace.queries.length} positions: ${milliseconds(last)}`
          : `last ${trace.strategy === 'beam' ? 'beam step' : 'step'}: engine ${milliseconds(last)}` +
            `${paint === null ? '' : ` · paint ${paint < 10 ? paint.toFixed(1) : Math.round(paint)} ms`}` +
            ` · engine median ${milliseconds(median)} over ${trace.stepMs.length}`;
      }
      setText($('timing'), timing);
      setAttribute($('timing'), 'title', trace?.mode === 'steps' ? TIMING_TITLE : '');
    },
  };
}
