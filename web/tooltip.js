// One floating tooltip for the whole page. Content is built from DOM nodes (never HTML strings), since
// token names come from model files that anyone can write.
const element = () => document.getElementById('tooltip');

/** Builds a node: el('strong', {class: 'mono'}, 'text', otherNode, ...). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Shows `lines` (arrays of nodes/strings, one per line) next to the point (x, y) in viewport pixels. */
export function showTooltip(lines, x, y) {
  const tip = element();
  tip.replaceChildren(...lines.map((line) => el('div', {}, line)));
  tip.hidden = false;
  const { width, height } = tip.getBoundingClientRect();
  const left = Math.max(4, Math.min(x + 14, window.innerWidth - width - 4));
  const top = y + 18 + height > window.innerHeight ? Math.max(4, y - height - 12) : y + 18;
  tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
}

export function hideTooltip() {
  const tip = element();
  if (tip) tip.hidden = true;
}
