// Recent violations (`GET violations`), newest first, filtered by client key and rule.
import { get } from './api.js';
import { byId, el, keyLink, pagedRows, row, timeCell } from './dom.js';

/** A violation's cells after its time and key: rule, route, method, hits over the limit. */
export const violationCells = (violation) => [
  violation.rule,
  el('td', {}, el('code', {}, violation.route)),
  violation.method,
  el('td', { class: 'num' }, `${violation.hits} / ${violation.limit}`),
];

export function createViolationsView({ act, openClient }) {
  const list = pagedRows({
    act,
    tbody: byId('violations-rows'),
    more: byId('violations-more'),
    empty: 'No violations match.',
    fetchPage: (cursor) => get('violations', { key: byId('violations-key').value.trim(), rule: byId('violations-rule').value.trim(), limit: 50, cursor }),
    toRow: (violation) => row(timeCell(violation.at), el('td', {}, keyLink(violation.key, openClient)), ...violationCells(violation)),
  });

  byId('violations-search').addEventListener('submit', (event) => {
    event.preventDefault();
    act(list.load);
  });

  return list;
}
