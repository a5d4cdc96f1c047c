// Which keys a focused element uses itself. The page's shortcuts (→ step, Space play/pause; web/app.js)
// never take a key from a focused control: Space on a focused button presses that button, the arrow keys
// move a focused radio group, range, select, tab list or text field, or scroll a focused scroll box.
// With the focus on the page itself, or on an element that does nothing with the key, the shortcut acts.

// Space: activates buttons, links, summaries, checkboxes, radios and ARIA widgets; types in text fields.
const USES_SPACE = [
  'a[href]', 'button', 'summary', 'input', 'select', 'textarea', '[contenteditable=""]', '[contenteditable="true"]',
  '[role="button"]', '[role="link"]', '[role="tab"]', '[role="checkbox"]', '[role="switch"]', '[role="radio"]',
  '[role="option"]', '[role="menuitem"]', '[role="slider"]',
].join(', ');

// The arrow keys: move the caret, the choice of a radio group, a range, a select, a tab list.
const USES_ARROWS = [
  'input:not([type="button"]):not([type="submit"]):not([type="reset"]):not([type="checkbox"]):not([type="file"]):not([type="image"])',
  'select', 'textarea', '[contenteditable=""]', '[contenteditable="true"]',
  '[role="tab"]', '[role="radio"]', '[role="slider"]', '[role="spinbutton"]', '[role="listbox"]', '[role="option"]',
  '[role="menuitem"]', '[role="grid"]', '[role="tree"]', '[role="treeitem"]',
].join(', ');

/** True when the focused element (`target` of a key event) has its own use for `key`. */
export function keepsKey(target, key) {
  if (!target || target === document.body || target === document.documentElement || !target.closest) return false;
  if (key === ' ' || key === 'Spacebar') return Boolean(target.closest(USES_SPACE));
  if (key.startsWith('Arrow')) {
    if (target.closest(USES_ARROWS)) return true;
    // A scroll box given the focus (tabindex) scrolls with the arrow keys.
    return target.tabIndex >= 0 && (target.scrollWidth > target.clientWidth || target.scrollHeight > target.clientHeight);
  }
  return false;
}
