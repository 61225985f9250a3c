import { ADMIN_KEY, BEARER, type AdminTestApp } from '../admin/admin.app.js';
import { startStatsApp, traffic } from '../admin/admin-stats.app.js';
import { ADAPTERS } from '../support/http-app.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { CLI, closedPort, HOSTILE_KEY, listen, requireBuiltCli, userFromQuery } from './cli.js';
import { TmuxSession } from './tmux.js';

requireBuiltCli();
// Each test runs the CLI, a Node process: on a busy machine that takes seconds.
jest.setTimeout(30_000);

let sessions = 0;
const socketName = () => `rampart-cli-${process.pid}-${++sessions}`;

/**
 * The shell command of the pane: a line, the monitor, then what it exited with and the terminal
 * modes it left (`icanon` and `echo`, not `-icanon` and `-echo`: raw mode is off again), `done`, and a wait
 * so that the screen stays for the test to read.
 */
const monitorCommand = () =>
  `printf 'before monitor\\n'; ${process.execPath} ${CLI} monitor --interval 1; echo "monitor exited $?"; ` +
  `stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo done; sleep 600`;

/** The time after `tried` on the screen: it changes with each attempt. */
const triedAt = (screen: string) => /tried (\d\d:\d\d:\d\d)/.exec(screen)?.[1];

/** Every row of an 80x24 screen: 24 rows, none reaching the last column. */
function expectFits(screen: string): string[] {
  const rows = screen.replace(/\n$/, '').split('\n');
  expect(rows).toHaveLength(24);
  for (const row of rows) expect(row.length).toBeLessThan(80);
  return rows;
}

describe.each(ADAPTERS)('rampart monitor in an 80x24 terminal, against an app on %s', (adapter) => {
  let t: AdminTestApp;
  let proxy: TcpProxy;
  let tmux: TmuxSession | undefined;
  beforeAll(async () => {
    t = await startStatsApp(adapter, { keyResolver: userFromQuery });
    const port = Number(new URL(await listen(t)).port);
    proxy = await TcpProxy.start({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await tmux?.kill();
    await proxy.cut();
    await t.close();
  });

  it('shows the stats, a ban and the violations; shows the app unreachable and recovers; q restores the terminal, exit 0', async () => {
    expect(await traffic(t, '/api', '203.0.113.7', 5)).toEqual([200, 200, 429, 429, 429]);
    expect(await traffic(t, `/api?user=${encodeURIComponent(HOSTILE_KEY)}`, '198.51.100.1', 4)).toEqual([200, 200, 429, 429]);
    await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: '192.0.2.44', kind: 'permanent', reason: 'made by the test' }).expect(201);

    const env = { RAMPART_URL: `http://127.0.0.1:${proxy.port}/rate-limit`, RAMPART_ADMIN_KEY: ADMIN_KEY };
    tmux = await TmuxSession.start(socketName(), { command: monitorCommand(), env });
    const live = await tmux.waitFor((screen) => screen.includes('Requests 9 ') && screen.includes('192.0.2.44'));
    const rows = expectFits(live);
    expect(rows[0]).toMatch(/^Rampart monitor {2}http:\/\/127\.0\.0\.1:\d+\/rate-limit +updated \d\d:\d\d:\d\d$/);
    expect(rows[1]).toBe('LIVE  fleet of 1 instance, last 1m, every 1s');
    expect(rows[2]).toBe('Requests 9  admitted 4  limited 2  blocked 3  banned 0');
    expect(rows[3]).toBe('Block rate 55.6%  violations/min 4.0  blocks made 2  bans made 1');
    expect(live).toMatch(/^ {2}per-minute +4\/8 │ {3}203\.0\.113\.7 +3$/m);
    expect(live).toMatch(/^Bans in force \(\d\)$/m);
    expect(live).toMatch(/^ {2}192\.0\.2\.44 +permanent +made by the test$/m);
    expect(live).toContain('Recent violations (UTC)');
    expect(rows[23]).toBe('q quit');
    // The hostile key is shown escaped: the title is not set, nothing is cleared or recoloured.
    expect(live).toContain('\\u001b]0;pwned');
    expect(await tmux.display('#{pane_title}')).not.toContain('pwned');
    expect(live).not.toContain(ADMIN_KEY);
    expect(await tmux.display('#{alternate_on} #{cursor_flag}')).toBe('1 0');

    await proxy.cut();
    // The first failure may be the connection the cut dropped; the next ones are refused.
    const down = await tmux.waitFor((screen) => screen.includes('UNREACHABLE') && screen.includes('connection refused'));
    expect(expectFits(down)[2]).toMatch(/^ {2}cannot reach http:\/\/127\.0\.0\.1:\d+\/rate-limit: connection refused$/);
    expect(down).toContain('Requests 9 ');
    // It keeps trying, and does not exit.
    await tmux.waitFor((screen) => triedAt(screen) !== undefined && triedAt(screen) !== triedAt(down));

    await proxy.restore();
    const back = await tmux.waitFor((screen) => screen.includes('LIVE'));
    expect(back).not.toContain('UNREACHABLE');

    await tmux.sendKeys('q');
    const after = await tmux.waitFor((screen) => /^done$/m.test(screen));
    expect(after.trimEnd().split('\n')).toEqual(['before monitor', 'monitor exited 0', 'icanon', 'echo', 'done']);
    expect(await tmux.display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });
});

describe('rampart monitor pointed at a closed port', () => {
  let tmux: TmuxSession | undefined;
  afterAll(() => tmux?.kill());

  it('shows the app unreachable, keeps retrying without exiting, and Ctrl-C quits with exit 0', async () => {
    const env = { RAMPART_URL: `http://127.0.0.1:${await closedPort()}/rate-limit`, RAMPART_ADMIN_KEY: ADMIN_KEY };
    tmux = await TmuxSession.start(socketName(), { command: monitorCommand(), env });
    const first = await tmux.waitFor((screen) => triedAt(screen) !== undefined);
    const rows = expectFits(first);
    expect(rows[1]).toMatch(/^UNREACHABLE {2}tried \d\d:\d\d:\d\d, retrying every 1s$/);
    expect(rows[2]).toMatch(/^ {2}cannot reach http:\/\/127\.0\.0\.1:\d+\/rate-limit: connection refused$/);
    expect(rows[23]).toBe('q quit');
    await tmux.waitFor((screen) => triedAt(screen) !== undefined && triedAt(screen) !== triedAt(first));
    expect(await tmux.capture()).not.toContain('monitor exited');

    await tmux.sendKeys('C-c');
    const after = await tmux.waitFor((screen) => /^done$/m.test(screen));
    expect(after.trimEnd().split('\n')).toEqual(['before monitor', 'monitor exited 0', 'icanon', 'echo', 'done']);
  });
});
