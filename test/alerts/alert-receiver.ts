import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver took. */
export interface ReceivedAlert {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as sent. */
  readonly body: string;
  /** performance.now() when it arrived. */
  readonly atMs: number;
}

/** How the receiver answers a request: a status, `'hang'` (never), or `'hold'` (when `release` is called). */
export type Reply = number | 'hang' | 'hold';

/**
 * A real HTTP server on a free local port that takes alert webhooks: it keeps every request, and
 * answers each with the next scripted reply (204 once the script is used up).
 */
export class AlertReceiver {
  readonly requests: ReceivedAlert[] = [];
  private readonly script: Reply[] = [];
  private readonly held: ServerResponse[] = [];
  private readonly hanging: ServerResponse[] = [];

  private readonly server: Server;
  /** `http://127.0.0.1:<port>`, once started. */
  url = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.take(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  static async start(): Promise<AlertReceiver> {
    const receiver = new AlertReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  /** The next answers, in order. */
  reply(...replies: Reply[]): void {
    this.script.push(...replies);
  }

  /** Answers the held requests with `status`. */
  release(status = 204): void {
    for (const res of this.held.splice(0)) res.writeHead(status).end();
  }

  /** The requests to `path`. */
  at(path: string): ReceivedAlert[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const res of [...this.held.splice(0), ...this.hanging.splice(0)]) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take(path: string, headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    this.requests.push({ path, headers, body, atMs: performance.now() });
    const reply = this.script.shift() ?? 204;
    if (reply === 'hang') this.hanging.push(res);
    else if (reply === 'hold') this.held.push(res);
    else res.writeHead(reply).end();
  }
}

/**
 * What a receiver of signed alerts does with `Rampart-Signature: t=<seconds>,v1=<hex>`: recompute
 * HMAC-SHA256(secret, "<t>.<raw body>"), compare in constant time, and refuse a timestamp more than
 * five minutes from its own clock. Written here from the documented scheme, apart from the
 * library's own `verifyAlertSignature`.
 */
export function receiverAccepts(secret: string, alert: ReceivedAlert, nowMs: number): boolean {
  const header = alert.headers['rampart-signature'];
  const match = typeof header === 'string' ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (!match) return false;
  const [, t, v1] = match;
  if (Math.abs(nowMs / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${alert.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
