/**
 * The diagnostics table, with the CLI's columns and cell formats (src/report/summaryRow.ts:
 * columnsFor, cellText), one row per sampler in the order they were chosen. Samplers that have
 * not finished show what they are doing; failed ones say why, as the CLI does.
 */
import { cellText, columnsFor, type SummaryRow } from '../../src/report/summaryRow.js';

export function renderTable(table: HTMLTableElement, order: string[], rows: Map<string, SummaryRow>, pending: Map<string, string>): void {
  const done = order.map((s) => rows.get(s)).filter((r): r is SummaryRow => r !== undefined);
  const cols = columnsFor(done.length ? done : []);
  const head = document.createElement('thead');
  const hr = document.createElement('tr');
  for (const c of cols) {
    const th = document.createElement('th');
    th.textContent = c.header;
    th.dataset.key = c.key;
    hr.append(th);
  }
  head.append(hr);
  const body = document.createElement('tbody');
  for (const sampler of order) {
    const tr = document.createElement('tr');
    tr.dataset.sampler = sampler;
    const row = rows.get(sampler);
    const first = document.createElement('td');
    first.textContent = sampler;
    tr.append(first);
    if (!row || row.error) {
      const stopped = row?.error?.startsWith('stopped') ?? false;
      tr.dataset.state = row ? (stopped ? 'stopped' : 'failed') : 'pending';
      if (row) tr.className = stopped ? 'stopped' : 'failed';
      const td = document.createElement('td');
      td.colSpan = cols.length - 1;
      td.className = 'status';
      td.textContent = row ? (stopped ? row.error! : `failed: ${row.error}`) : (pending.get(sampler) ?? 'waiting');
      tr.append(td);
    } else {
      tr.dataset.state = 'done';
      for (const c of cols.slice(1)) {
        const td = document.createElement('td');
        td.textContent = cellText(row, c);
        td.dataset.key = c.key;
        if (c.key === 'warnings' && (row.warnings ?? []).length > 0) td.className = 'warn';
        tr.append(td);
      }
    }
    body.append(tr);
  }
  table.replaceChildren(head, body);
}
