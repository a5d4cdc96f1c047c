// The attention rows a view draws, taken from a trace (web/session.js): one head's rows, or the mean of a
// layer's heads, padded with zeros to a width. No DOM here.

function meanOf(heads) {
  return heads[0].map((row, i) => {
    const out = new Float32Array(row.length);
    for (const head of heads) for (let j = 0; j < row.length; j++) out[j] += (head[i][j] ?? 0) / heads.length;
    return out;
  });
}

function pad(row, width) {
  if (row.length === width) return row;
  const out = new Float32Array(width);
  out.set(row.subarray(0, Math.min(width, row.length)));
  return out;
}

/**
 * Rows of one head (or, head 'mean', the mean of the layer's heads) of `source` (trace.self, trace.cross
 * or trace.encoder), padded with zeros to `width` columns (a stepped row i has only its i + 1 visible
 * keys).
 */
export function rowsOf(source, layer, head, width) {
  const padded = (rows) => rows.map((row) => pad(row, width));
  return head === 'mean' ? meanOf(source[layer].map(padded)) : padded(source[layer][head]);
}

/** Row i of rowsOf(source, layer, head, width), computed alone (the same numbers, in the same order). */
export function rowOf(source, layer, head, width, i) {
  if (head !== 'mean') return pad(source[layer][head][i], width);
  const heads = source[layer];
  const out = new Float32Array(width);
  for (const rows of heads) {
    const row = pad(rows[i], width);
    for (let j = 0; j < width; j++) out[j] += (row[j] ?? 0) / heads.length;
  }
  return out;
}
