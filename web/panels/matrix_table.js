// The enlarged matrix (panels/matrix.js) as a table, for screen readers. The heatmap is a canvas, a
// picture that assistive technology cannot read, so the canvas is hidden from it and this visually
// hidden <table> holds the same matrix: a caption naming it, one column header per key (its token and
// position), one row header per query, and each weight to two decimals (masked cells say so; the causal
// mask's cells read 0 and −∞). Rebuilt only when the matrix drawn changes (a step, the view, the layer or
// head), and then when the browser is idle, after the step is painted: a fast play that changes the
// matrix many times in a row builds the table once, for the latest (measured: 0.1-0.4 ms for 7x7 to 20x20).
import { whenIdle } from '../paint_timing.js';

/** An axis as the heatmap labels it ('key →'), as words ('key'). */
const axisName = (axis) => String(axis ?? '').replace(/\s*→\s*$/, '');

/** The text of cell (i, j) of a matrix as the Heatmap draws it (web/heatmap.js spec). */
export function cellText(data, i, j) {
  const masked = data.masked(i, j);
  if (data.kind === 'mask') return masked ? '−∞' : '0';
  return masked ? 'masked' : data.rows[i][j].toFixed(2);
}


export class MatrixTable {
  /** Appends the (empty) table after `anchor`, in a visually hidden box (style.css .sr-only). */
  constructor(anchor, id) {
    const box = document.createElement('div');
    box.className = 'sr-only';
    this.table = document.createElement('table');
    this.table.id = id;
    box.append(this.table);
    anchor.after(box);
    this.next = null;  // the matrix to show, once idle
  }

  /** Shows `data` (what the Heatmap draws; null: nothing) under the caption `title`, once idle. */
  show(data, title) {
    const scheduled = this.next !== null;
    this.next = { data, title };
    if (!scheduled) {
      whenIdle(() => {
        const { data: latest, title: caption } = this.next;
        this.next = null;
        this.#build(latest, caption);
      });
    }
  }

  #build(data, title) {
    const table = this.table;
    if (!data || data.rows.length === 0) {
      table.replaceChildren();
      table.hidden = true;
      return;
    }
    const rowName = axisName(data.rowAxis);
    const colName = axisName(data.colAxis);
    const caption = document.createElement('caption');
    caption.textContent = `${title}. Rows: ${rowName}; columns: ${colName}; ${data.kind === 'mask' ? 'the value the mask adds' : 'attention weights to two decimals'}.`;
    const head = document.createElement('tr');
    const corner = document.createElement('td');
    head.append(corner);
    for (let j = 0; j < data.nCols; j++) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = `${data.colLabels[j]} (${colName} ${j})`;
      head.append(th);
    }
    const thead = document.createElement('thead');
    thead.append(head);
    const tbody = document.createElement('tbody');
    for (let i = 0; i < data.rows.length; i++) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      const note = data.rowNotes?.[i];
      th.textContent = `${data.rowLabels[i]} (${rowName} ${i}${note ? `, next ${note.replace(/^→\s*/, '')}` : ''})`;
      tr.append(th);
      for (let j = 0; j < data.nCols; j++) {
        const td = document.createElement('td');
        td.textContent = cellText(data, i, j);
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.replaceChildren(caption, thead, tbody);
    table.hidden = false;
  }
}
