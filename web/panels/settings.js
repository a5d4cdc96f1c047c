// The decoding settings card: the options of the strategy chosen, and in teacher-forcing mode the
// causal-mask switch and the reference fed (typed, or one of the presets offered). While a model invents
// a word, a note instead: the invention samples with settings of its own.
import { el } from '../tooltip.js';
import { readable, targetPresets } from '../choices.js';
import { Memo, setAttribute, setProperty, setText } from './util.js';

export function create(root, store) {
  const $ = (id) => root.querySelector(`#${id}`);
  const strategies = [...root.querySelectorAll('input[name="strategy"]')];
  const modes = [...root.querySelectorAll('input[name="mode"]')];
  const fields = [...root.querySelectorAll('input[type="number"], #target')];
  const target = $('target');
  const presetsMemo = new Memo();
  return {
    update() {
      const { settings, model, word, words, message } = store.state;
      if (!settings) return;
      // the field an error is about, outlined (web/actions.js settingsProblem, engineProblem)
      for (const input of fields) setAttribute(input, 'aria-invalid', String(message?.kind === 'error' && message.field === input.id));
      // an invention (web/panels/invent.js) samples with its own settings: these are idle meanwhile, and say so
      const inventing = store.state.invention !== null;
      const stepping = settings.mode === 'steps';
      setProperty($('sample-params'), 'hidden', inventing || !stepping || settings.strategy !== 'sample');
      setProperty($('beam-params'), 'hidden', inventing || !stepping || settings.strategy !== 'beam');
      for (const input of strategies) setProperty(input, 'disabled', inventing || !stepping);
      for (const input of modes) setProperty(input, 'disabled', inventing);
      setProperty($('invent-settings-note'), 'hidden', !inventing);
      setProperty($('teacher-params'), 'hidden', inventing || stepping);
      setProperty($('causal-switch'), 'hidden', inventing || stepping);
      if (inventing) return;
      const fed = store.state.target;
      if (stepping || fed.word !== word) return;  // the reference shown is another word's until it is fed
      if (document.activeElement !== target) setProperty(target, 'value', fed.text);
      setText($('target-source'), fed.source ? `fed: ${fed.source}` : '');
      if (!presetsMemo.changed(model, word, fed.source)) return;
      const presets = readable(model, word) ? targetPresets(model, word, words).filter((p) => p.source !== fed.source) : [];
      $('target-presets').replaceChildren(...presets.map((p) => {
        const button = el('button', { type: 'button', class: 'link-button' }, p.label);
        button.addEventListener('click', () => store.actions.feedPreset(p));
        return button;
      }));
    },
  };
}
