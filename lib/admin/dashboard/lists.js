// Allow- and deny-lists (`GET/POST/DELETE access-list`): addresses and ranges, with an optional end.
import { get, post, remove, serverNow } from './api.js';
import { badge, button, byId, clear, durationMs, el, fillRows, row, time, timeCell } from './dom.js';

export function createListsView({ act, notify }) {
  const rows = byId('lists-rows');
  const form = byId('list-form');

  async function load() {
    const { items } = await get('access-list');
    // The deny-list first: what refuses clients is what an operator looks for.
    const ordered = [...items.filter((entry) => entry.kind === 'deny'), ...items.filter((entry) => entry.kind === 'allow')];
    fillRows(rows, ordered.map(entryRow), 'Both lists are empty.');
  }

  function entryRow(entry) {
    const removeButton = button(
      'Remove',
      () =>
        act(async () => {
          await remove('access-list', { kind: entry.kind, cidr: entry.cidr });
          notify(`Removed ${entry.cidr} from the ${entry.kind}-list.`);
          await load();
        }),
      { class: 'danger small' },
    );
    const tr = row(
      el('td', {}, badge(entry.kind, entry.kind === 'deny' ? 'bad' : 'good')),
      el('td', {}, el('code', {}, entry.cidr)),
      el('td', { class: 'reason' }, entry.note ?? ''),
      entry.expiresAt ? timeCell(entry.expiresAt) : 'never',
      el('td', {}, entry.active ? 'active' : badge('ended')),
      el('td', { class: 'actions' }, removeButton),
    );
    tr.dataset.target = `${entry.kind} ${entry.cidr}`;
    return tr;
  }

  byId('lists-refresh').addEventListener('click', () => act(load));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const kind = byId('list-kind').value;
      const note = byId('list-note').value;
      const forMs = durationMs(byId('list-duration'), byId('list-duration-unit'));
      const body = {
        kind,
        cidr: byId('list-cidr').value.trim(),
        ...(note ? { note } : {}),
        ...(forMs !== undefined ? { expiresAtMs: Math.round(serverNow() + forMs) } : {}),
      };
      const entry = await post('access-list', body);
      form.reset();
      notify(`Added ${entry.cidr} to the ${entry.kind}-list${entry.expiresAt ? ` until ${time(entry.expiresAt)}` : ''}.`);
      await load();
    });
  });

  return {
    load: () => load(),
    reset() {
      clear(rows);
    },
  };
}
