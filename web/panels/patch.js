// Content that a step changes in place: the "Open the box" panels describe what they show as plain
// objects, h(tag, attributes, ...children) (the same arguments as tooltip.js el()), and patch(parent,
// nodes) brings the page's nodes in line with the description, comparing it with the one it last applied
// (kept on each node): a node whose tag stays keeps its place, and only the attributes and texts that
// differ are written. A step that changes numbers but not the structure so writes only those numbers and
// colours (no node is made, no old one is read back), and the browser restyles only what changed, where
// building the content afresh makes it style and lay out every cell again.
//
//   patch(body, [h('div', { class: 'vector' }, h('span', { class: 'cell', 'data-value': '0.5' }))]);
//
// Attributes: `class` and any other attribute as a string (false, null and undefined: absent); `on`:
// { click: handler, ... }, listeners that follow the description (the latest handler is the one called);
// `style`: { property: value }, set through the CSSOM (the page's Content-Security-Policy refuses style
// attributes; colours are better as classes, which the browser restyles from a cache).
// Children: descriptions, strings and numbers (text), arrays of them (flattened); null, undefined and
// false are skipped.

/** A description of an element. */
export function h(tag, attributes = {}, ...children) {
  const kids = [];
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    kids.push(typeof child === 'object' ? child : String(child));
  }
  return { tag, attributes, children: kids };
}

const APPLIED = Symbol('applied description');

/** Makes parent's children match `nodes` (descriptions and strings), writing only what differs. */
export function patch(parent, nodes) {
  const list = nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false);
  const old = parent.childNodes;
  let i = 0;
  for (; i < list.length; i++) {
    const next = typeof list[i] === 'object' ? list[i] : String(list[i]);
    const here = old[i];
    if (typeof next === 'string') {
      if (here?.nodeType === Node.TEXT_NODE) {
        if (here.data !== next) here.data = next;
      } else if (here) parent.replaceChild(document.createTextNode(next), here);
      else parent.append(next);
      continue;
    }
    const applied = here?.[APPLIED];
    if (applied && applied.tag === next.tag) update(here, applied, next);
    else if (here) parent.replaceChild(create(next), here);
    else parent.append(create(next));
  }
  while (old.length > i) parent.lastChild.remove();
}

function create(d) {
  const node = document.createElement(d.tag);
  setAttributes(node, {}, d.attributes);
  node[APPLIED] = d;
  for (const child of d.children) node.append(typeof child === 'string' ? document.createTextNode(child) : create(child));
  return node;
}

function update(node, applied, next) {
  node[APPLIED] = next;
  if (applied === next) return;
  setAttributes(node, applied.attributes, next.attributes);
  // the common cases without a general walk: one text, the same text
  const a = applied.children;
  const b = next.children;
  if (a.length === 1 && b.length === 1 && typeof a[0] === 'string' && typeof b[0] === 'string' && node.childNodes.length === 1) {
    if (a[0] !== b[0]) node.firstChild.data = b[0];
    return;
  }
  patch(node, b);
}

const present = (v) => v !== false && v !== null && v !== undefined;

function setAttributes(node, before, after) {
  for (const key in after) {
    const value = after[key];
    if (key === 'on') {
      listen(node, value);
      continue;
    }
    if (key === 'style') {
      setStyle(node, before.style ?? {}, value ?? {});
      continue;
    }
    if (value === before[key]) continue;
    if (!present(value)) node.removeAttribute(key === 'class' ? 'class' : key);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const key in before) {
    if (key in after || !present(before[key])) continue;
    if (key === 'on') listen(node, Object.fromEntries(Object.keys(before.on).map((type) => [type, undefined])));
    else if (key === 'style') setStyle(node, before.style, {});
    else node.removeAttribute(key);
  }
}

// Inline style through the CSSOM, property by property ({ width: '40%' }; '' or absent: removed).
function setStyle(node, before, after) {
  for (const property in after) if (after[property] !== before[property]) node.style[property] = after[property] ?? '';
  for (const property in before) if (!(property in after)) node.style[property] = '';
}

// One listener per event type and node, calling the handler of the description applied last.
const HANDLERS = Symbol('handlers');
function listen(node, on) {
  if (!node[HANDLERS]) node[HANDLERS] = {};
  for (const [type, handler] of Object.entries(on ?? {})) {
    if (!(type in node[HANDLERS])) node.addEventListener(type, (e) => node[HANDLERS][type]?.(e));
    node[HANDLERS][type] = handler;
  }
}
