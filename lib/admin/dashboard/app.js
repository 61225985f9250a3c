// The dashboard's shell: sign-in and sign-out, the views, the error and notice banners, and the
// refresh of the statistics.
import { ApiError, get, session } from './api.js';
import { createBansView } from './bans.js';
import { createClientsView } from './clients.js';
import { byId, el } from './dom.js';
import { createListsView } from './lists.js';
import { createStatsView } from './stats.js';
import { createViolationsView } from './violations.js';

const REFRESH_MS = 3_000;
const VIEW_ITEM = 'rampart.view';

const errorBanner = byId('error');
const noticeBanner = byId('notice');

/** Shows what went wrong: the problem's `detail`, and each of its `errors`. */
function showError(error) {
  noticeBanner.hidden = true;
  const detail = error instanceof ApiError ? error.message : `Could not reach the admin API: ${error?.message ?? error}`;
  const list = error instanceof ApiError && error.errors.length > 0 ? [el('ul', {}, ...error.errors.map((text) => el('li', {}, text)))] : [];
  errorBanner.replaceChildren(el('strong', {}, error instanceof ApiError ? `Error ${error.status}` : 'Error'), ' ', detail, ...list);
  errorBanner.hidden = false;
}

function notify(text) {
  errorBanner.hidden = true;
  noticeBanner.textContent = text;
  noticeBanner.hidden = false;
}

function clearBanners() {
  errorBanner.hidden = true;
  noticeBanner.hidden = true;
}

/** Runs a task; a refused key brings the login back, any other error is shown. */
async function run(task) {
  try {
    await task();
  } catch (error) {
    if (error instanceof ApiError && error.stale) return;
    if (error instanceof ApiError && error.unauthorized) {
      const refused = error.status === 401 ? 'The admin API refused this key' : 'The admin API denied access';
      signOut();
      showError(new ApiError(error.status, { detail: `${refused}: ${error.message} Sign in again.` }));
    } else {
      showError(error);
    }
  }
}

/** Runs what the operator asked for, after clearing the last answer's banners. */
function act(task) {
  clearBanners();
  return run(task);
}

const context = { act, notify, openClient: (key) => show('clients', key) };
const views = {
  stats: createStatsView(context),
  bans: createBansView(context),
  violations: createViolationsView(context),
  clients: createClientsView(context),
  lists: createListsView(context),
};
let current = views[sessionStorage.getItem(VIEW_ITEM)] ? sessionStorage.getItem(VIEW_ITEM) : 'stats';

/** Shows a view and loads its data (the clients view: looks `key` up, when given). */
function show(name, key) {
  current = name;
  sessionStorage.setItem(VIEW_ITEM, name);
  for (const view of Object.keys(views)) byId(`view-${view}`).hidden = view !== name;
  for (const item of byId('nav').querySelectorAll('button')) item.setAttribute('aria-current', String(item.dataset.view === name));
  return act(() => views[name].load(key));
}

function enter() {
  byId('login').hidden = true;
  byId('nav').hidden = false;
  byId('logout').hidden = false;
  return show(current);
}

/** Forgets the key and every figure shown, and brings the login back. */
function signOut() {
  session.signOut();
  for (const view of Object.values(views)) view.reset();
  for (const name of Object.keys(views)) byId(`view-${name}`).hidden = true;
  byId('nav').hidden = true;
  byId('logout').hidden = true;
  byId('login').hidden = false;
  byId('login-key').focus();
}

byId('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('login-key');
  const key = input.value.trim();
  input.value = '';
  if (key === '') return;
  session.signIn(key);
  // A cheap call proves the key before any view shows.
  act(async () => {
    await get('bans', { limit: 1 });
    await enter();
  });
});

byId('logout').addEventListener('click', () => {
  signOut();
  notify('Signed out: the key is forgotten.');
});

for (const item of byId('nav').querySelectorAll('button')) item.addEventListener('click', () => show(item.dataset.view));

setInterval(() => {
  if (session.key() && current === 'stats' && !document.hidden) run(() => views.stats.load());
}, REFRESH_MS);

if (session.key()) enter();
else signOut();
