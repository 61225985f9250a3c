// Bans (`GET/POST/DELETE bans`): search, add, lift.
import { get, post, remove } from './api.js';
import { badge, button, byId, durationMs, el, keyLink, pagedRows, row, time, timeCell } from './dom.js';

/** `{ key }` or `{ cidr }` of a ban, as the API names its target. */
export const targetOf = (ban) => (ban.key !== undefined ? { key: ban.key } : { cidr: ban.cidr });

/** Lifts the ban of `target` (`{ key }` or `{ cidr }`); answers the notice to show. */
export async function liftBan(target) {
  await remove('bans', target);
  return `Lifted the ban of ${target.key ?? target.cidr}.`;
}

export function createBansView({ act, notify, openClient }) {
  const form = byId('ban-form');
  const kind = byId('ban-kind');
  const duration = byId('ban-duration');
  const unit = byId('ban-duration-unit');

  function filters() {
    const target = byId('bans-search-target').value.trim();
    return { [byId('bans-search-by').value]: target, active: byId('bans-search-state').value, limit: 50 };
  }

  const list = pagedRows({
    act,
    tbody: byId('bans-rows'),
    more: byId('bans-more'),
    empty: 'No bans match.',
    fetchPage: (cursor) => get('bans', { ...filters(), cursor }),
    toRow: banRow,
  });
  const { load } = list;

  function banRow(ban) {
    const target = targetOf(ban);
    const lift = button(
      'Lift',
      () =>
        act(async () => {
          notify(await liftBan(target));
          await load();
        }),
      { class: 'danger small' },
    );
    const tr = row(
      el('td', {}, ban.key !== undefined ? keyLink(ban.key, openClient) : el('code', {}, ban.cidr)),
      ban.kind,
      { auto: 'escalation', admin: 'operator', ddos: 'DDoS detection' }[ban.source] ?? ban.source,
      el('td', { class: 'reason' }, ban.reason),
      el('td', { class: 'time' }, time(ban.createdAt), el('br'), el('span', { class: 'muted' }, ban.createdBy)),
      ban.expiresAt ? timeCell(ban.expiresAt) : 'never',
      ban.violationCount,
      el('td', {}, ban.active ? badge('in force', 'bad') : badge(ban.liftedAt ? 'lifted' : 'ended')),
      el('td', { class: 'actions' }, ban.active ? lift : null),
    );
    tr.dataset.target = ban.key ?? ban.cidr;
    return tr;
  }

  function syncDuration() {
    duration.disabled = unit.disabled = kind.value !== 'temporary';
    duration.required = !duration.disabled;
  }

  byId('bans-search').addEventListener('submit', (event) => {
    event.preventDefault();
    act(load);
  });
  kind.addEventListener('change', syncDuration);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const body = { [byId('ban-by').value]: byId('ban-target').value.trim(), kind: kind.value, reason: byId('ban-reason').value };
      if (kind.value === 'temporary') body.durationMs = durationMs(duration, unit);
      const ban = await post('bans', body);
      form.reset();
      syncDuration();
      notify(`Banned ${ban.key ?? ban.cidr} (${ban.kind}${ban.expiresAt ? ` until ${time(ban.expiresAt)}` : ''}).`);
      await load();
    });
  });
  syncDuration();

  return list;
}
