// Client lookup (`GET clients/:key`): what the guard answers the client now, its ban record, its
// counters per rule and its latest violations.
import { get } from './api.js';
import { liftBan, targetOf } from './bans.js';
import { byId, clear, el, fillRows, row, time, timeCell } from './dom.js';
import { violationCells } from './violations.js';

const TONES = { none: 'good', 'allow-listed': 'good', 'deny-listed': 'bad', banned: 'bad', blocked: 'warn' };

const describeBan = (ban) =>
  `${ban.kind} ${ban.key !== undefined ? `ban of ${ban.key}` : `ban of the range ${ban.cidr}`}, ${ban.active ? 'in force' : ban.liftedAt ? 'lifted' : 'ended'}` +
  `${ban.expiresAt ? `, ends ${time(ban.expiresAt)}` : ''}: ${ban.reason} (by ${ban.createdBy}, ${ban.blockCount} block${ban.blockCount === 1 ? '' : 's'})`;

export function createClientsView({ act, notify }) {
  const input = byId('client-key');
  const result = byId('client-result');
  const facts = byId('client-facts');
  const counters = byId('client-counters');
  const violations = byId('client-violations');
  const lift = byId('client-lift');
  let liftTarget = null;

  function fact(term, ...description) {
    facts.append(el('dt', {}, term), el('dd', {}, ...description));
  }

  async function load(key) {
    if (key !== undefined) input.value = key;
    const wanted = input.value.trim();
    if (wanted === '') return;
    const client = await get(`clients/${encodeURIComponent(wanted)}`);
    byId('client-title').textContent = client.key;
    const status = byId('client-status');
    status.textContent = client.status;
    status.className = `badge ${TONES[client.status] ?? ''}`.trim();
    clear(facts);
    if (client.blockedUntil) fact('Blocked until', time(client.blockedUntil));
    // A range's ban (or a key's own, when the record shown below is another) decides the status.
    if (client.matchedBan && client.matchedBan.id !== client.ban?.id) fact('Refused by', describeBan(client.matchedBan));
    if (client.matchedEntry)
      fact('Listed', `${client.matchedEntry.kind}-list entry ${client.matchedEntry.cidr}`, client.matchedEntry.note ? `: ${client.matchedEntry.note}` : '');
    fact('Ban record', client.ban ? describeBan(client.ban) : 'none');
    fact('Recent violations', String(client.recentViolations));
    const inForce = client.matchedBan ?? (client.ban?.active ? client.ban : null);
    liftTarget = inForce ? targetOf(inForce) : null;
    lift.hidden = liftTarget === null;
    fillRows(
      counters,
      client.counters.map((counter) =>
        row(
          counter.rule,
          el('td', {}, el('code', {}, counter.route)),
          counter.limit,
          counter.remaining,
          timeCell(counter.resetAt),
          timeCell(counter.blockedUntil),
        ),
      ),
      'No counter holds this key.',
    );
    fillRows(
      violations,
      client.latestViolations.map((violation) => row(timeCell(violation.at), ...violationCells(violation))),
      'No violations.',
    );
    result.hidden = false;
  }

  byId('client-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(() => load());
  });
  lift.addEventListener('click', () =>
    act(async () => {
      if (liftTarget) notify(await liftBan(liftTarget));
      await load();
    }),
  );

  return {
    load,
    reset() {
      input.value = '';
      result.hidden = true;
      byId('client-title').textContent = '';
      byId('client-status').textContent = '';
      clear(facts);
      clear(counters);
      clear(violations);
    },
  };
}
