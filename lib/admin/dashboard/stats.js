// Overview: the statistics of the last window (`GET stats`), refreshed by the shell every few seconds.
import { get, observeServerTime } from './api.js';
import { byId, clear, el, fillRows, keyLink, row, time } from './dom.js';

const count = (value) => Number(value ?? 0).toLocaleString('en-US');
const percent = (value) => `${(Number(value ?? 0) * 100).toFixed(1)} %`;
const perMinute = (value) => Number(value ?? 0).toFixed(1);

const CARDS = [
  ['requests', 'Requests', count],
  ['admitted', 'Admitted', count],
  ['limited', 'Limited', count],
  ['blocked', 'Blocked', count],
  ['banned', 'Banned', count],
  ['blockRate', 'Block rate', percent],
  ['violationsPerMinute', 'Violations / min', perMinute],
];

export function createStatsView({ act, openClient }) {
  const cards = byId('stats-cards');
  const rules = byId('stats-rules');
  const keys = byId('stats-keys');
  const scope = byId('stats-scope');
  const windowMs = byId('stats-window');
  let latest = 0;

  byId('stats-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(load);
  });

  /** Shows the latest figures: an answer that a later load (the operator's or the refresh's) overtook is dropped. */
  async function load() {
    const call = ++latest;
    const stats = await get('stats', { windowMs: windowMs.value });
    if (call !== latest) return;
    observeServerTime(stats.to);
    const instances = stats.instances?.length ?? 0;
    scope.textContent = `${stats.fleet ? `Fleet of ${instances} instance${instances === 1 ? '' : 's'}` : 'This instance'}, ${time(stats.from)} to ${time(stats.to)}`;
    cards.replaceChildren(
      ...CARDS.map(([name, label, format]) =>
        el('div', { class: `stat stat-${name}`, 'data-stat': name }, el('span', { class: 'label' }, label), el('strong', {}, format(stats[name]))),
      ),
    );
    fillRows(
      rules,
      stats.topRules.map((rule) => row(rule.rule, rule.requests, rule.refused, rule.nearLimit)),
      'No requests in this window.',
    );
    fillRows(
      keys,
      stats.topKeys.map((key) => row(el('td', {}, keyLink(key.key, openClient)), key.refusals)),
      'No client refused in this window.',
    );
  }

  return {
    load,
    reset() {
      latest++;
      scope.textContent = '';
      clear(cards);
      clear(rules);
      clear(keys);
    },
  };
}
