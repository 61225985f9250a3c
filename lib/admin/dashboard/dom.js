// Builds the page from elements and text nodes only. Everything the API answers (client keys, ban
// reasons, rule names, notes) is the clients' text, hostile by assumption: it is only ever set as
// text, never parsed as HTML (and the page's Trusted Types policy forbids that anyway).

export const byId = (id) => document.getElementById(id);

/**
 * An element with attributes (`class`, `type`, `data-*`...) and children: strings become text
 * nodes, null and undefined are skipped. Event handler attributes are refused.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (/^on/i.test(name)) throw new Error(`el(): no event handler attributes (${name}); use addEventListener`);
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child) => child !== undefined && child !== null).map((child) => (child instanceof Node ? child : String(child))));
  return element;
}

/** A button running `action` when clicked. */
export function button(label, action, attributes = {}) {
  const element = el('button', { type: 'button', ...attributes }, label);
  element.addEventListener('click', action);
  return element;
}

/** A table row of cells; a number is right-aligned. */
export function row(...cells) {
  return el(
    'tr',
    {},
    ...cells.map((cell) => (cell instanceof HTMLTableCellElement ? cell : el('td', typeof cell === 'number' ? { class: 'num' } : {}, cell ?? ''))),
  );
}

/** Replaces a table body's rows; one spanning row saying `empty` when there are none. */
export function fillRows(tbody, rows, empty) {
  const columns = tbody.closest('table')?.querySelectorAll('thead th').length ?? 1;
  tbody.replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: columns }, empty))]));
}

/** Removes every child. */
export const clear = (node) => node.replaceChildren();

/** An ISO 8601 time for people: `2030-01-01 12:00:00`, in UTC as every time on the page; `—` for none. */
export function time(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(0, 19).replace('T', ' ');
}

/** A table cell holding a time, kept on one line. */
export const timeCell = (iso) => el('td', { class: 'time' }, time(iso));

/** A badge: `tone` picks its colour (`bad`, `warn`, `good`, or plain). */
export const badge = (text, tone = '') => el('span', { class: `badge ${tone}`.trim() }, text);

/** A client key as a link-like button opening its lookup. */
export function keyLink(key, open) {
  return button(key, () => open(key), { class: 'link', title: 'Look up this client' });
}

/** Milliseconds from a number input and its unit select; undefined when the input is empty. */
export function durationMs(input, unit) {
  if (input.value.trim() === '') return undefined;
  return Math.round(Number(input.value) * Number(unit.value));
}

/**
 * A table body filled page by page: `fetchPage(cursor)` answers the API's `{ items, nextCursor }`
 * (the first page without a cursor), `toRow` makes each item's row, and the `more` button reads
 * the next page while there is one.
 */
export function pagedRows({ act, tbody, more, empty, fetchPage, toRow }) {
  let cursor;
  async function load({ append = false } = {}) {
    const page = await fetchPage(append ? cursor : undefined);
    cursor = page.nextCursor;
    const rows = page.items.map(toRow);
    if (append) tbody.append(...rows);
    else fillRows(tbody, rows, empty);
    more.hidden = cursor === undefined;
  }
  more.addEventListener('click', () => act(() => load({ append: true })));
  return {
    load: () => load(),
    reset() {
      clear(tbody);
      more.hidden = true;
      cursor = undefined;
    },
  };
}
