import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';

type ExecutionResult = FormattedExecutionResult<Record<string, unknown>, unknown>;
import WebSocket from 'ws';

/** What one subscription received, in order: results (`next`), then its errors or its end. */
export class Subscriptions {
  private readonly queue: ExecutionResult[] = [];
  private readonly waiting: ((result: ExecutionResult) => void)[] = [];
  /** The errors the subscription ended with (graphql-ws `error`), once it has. */
  errors: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined;
  readonly ended: Promise<void>;
  private end!: () => void;

  constructor() {
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  push(result: ExecutionResult): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(result);
    else this.queue.push(result);
  }

  fail(errors: unknown): void {
    this.errors = Array.isArray(errors) ? errors : [{ message: String((errors as Error)?.message ?? errors) }];
    this.end();
  }

  complete(): void {
    this.end();
  }

  /** The next result (waits for it). */
  next(): Promise<ExecutionResult> {
    const result = this.queue.shift();
    return result ? Promise.resolve(result) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** A graphql-ws client over `ws`, and how its connection ended. */
export interface TestWsClient {
  readonly client: Client;
  /** The close event of the connection (code and reason), once closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the server acknowledged the connection; rejects if it closed first. */
  readonly connected: Promise<void>;
  subscribe(query: string): Subscriptions;
  dispose(): Promise<void>;
}

/**
 * Connects at once (not lazily) and never retries, so that a refusal is seen as it is; `headers`
 * go on the upgrade request.
 */
export function wsClient(url: string, connectionParams?: Record<string, unknown>, headers: Record<string, string> = {}): TestWsClient {
  let onClosed!: (event: { code: number; reason: string }) => void;
  let onConnected!: () => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    void closed.then((event) => reject(new Error(`closed ${event.code} ${event.reason}`)));
  });
  connected.catch(() => undefined);
  const client = createClient({
    url,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    ...(connectionParams ? { connectionParams } : {}),
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason });
      },
    },
  });
  return {
    client,
    closed,
    connected,
    subscribe(query) {
      const inbox = new Subscriptions();
      client.subscribe({ query }, { next: (r) => inbox.push(r), error: (e) => inbox.fail(e), complete: () => inbox.complete() });
      return inbox;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}
