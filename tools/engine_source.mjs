// The engine's own lines for each box of the page's decoder diagram: the regions of
// src/engine/transformer.cpp between `// [box: NAME]` and `// [/box]` (comment lines only; the markers
// themselves are left out). tools/build_site.mjs writes them into site/engine_source.js for the code
// panel (web/panels/code.js); tests/browser/code.test.mjs checks that what the page shows is still
// what the source says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENGINE_SOURCE = 'src/engine/transformer.cpp';

const OPEN = /^\s*\/\/ \[box: ([\w-]+)\]\s*$/;
const CLOSE = /^\s*\/\/ \[\/box\]\s*$/;

/**
 * { file, regions: { NAME: { line (1-based, of the first line shown), lines: [...] } } } from the text of
 * a source file. Throws on a marker left open, a close without an open, or a name used twice.
 */
export function extractRegions(text, file = ENGINE_SOURCE) {
  const regions = {};
  let open = null;
  text.split('\n').forEach((line, i) => {
    const start = OPEN.exec(line);
    if (start) {
      if (open) throw new Error(`${file}:${i + 1}: [box: ${start[1]}] inside [box: ${open.name}]`);
      if (regions[start[1]]) throw new Error(`${file}:${i + 1}: [box: ${start[1]}] marked twice`);
      open = { name: start[1], line: i + 2, lines: [] };
    } else if (CLOSE.test(line)) {
      if (!open) throw new Error(`${file}:${i + 1}: [/box] without [box: ...]`);
      regions[open.name] = { line: open.line, lines: dedent(open.lines) };
      open = null;
    } else if (open) {
      open.lines.push(line);
    }
  });
  if (open) throw new Error(`${file}: [box: ${open.name}] is never closed`);
  return { file, regions };
}

function dedent(lines) {
  const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut));
}

/** The regions of the engine's source as it is now. */
export const currentRegions = () => extractRegions(readFileSync(path.join(ROOT, ENGINE_SOURCE), 'utf8'));

/** The classic script the site loads (globalThis.stepwiseEngineSource), for the regions given. */
export function engineSourceScript(extracted) {
  const json = JSON.stringify(extracted).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029').replace(/</g, '\\u003c');
  return `// The engine's lines for each box of the diagram, from ${extracted.file} (tools/engine_source.mjs)\n` +
    `globalThis.stepwiseEngineSource = ${json};\n`;
}
