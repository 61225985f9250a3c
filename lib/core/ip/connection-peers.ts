/** A connection as Node's servers hand it over: `net.Socket`, `tls.TLSSocket`. */
export interface PeerSocket {
  readonly remoteAddress?: string;
}

/** The request of a WebSocket handshake (an HTTP upgrade), as Node's `http` servers hand it over. */
export interface UpgradeRequest {
  readonly socket?: PeerSocket;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

/** A server whose connections can be watched: Node's `net`, `http` and `https` servers (Express's and Fastify's). */
export interface ConnectionSource {
  on(event: 'connection' | 'secureConnection', listener: (socket: PeerSocket) => void): unknown;
  on(event: 'upgrade', listener: (request: UpgradeRequest) => void): unknown;
  once?(event: 'listening', listener: () => void): unknown;
  readonly listening?: boolean;
  /** Where it listens: an object for TCP, the path for a Unix socket or a Windows pipe. */
  address?(): unknown;
}

/**
 * The peer address of every connection, as it was when the connection was accepted. A socket whose
 * connection is reset (TCP RST) loses its `remoteAddress`; a request read from it before the reset
 * still reaches the app (behind a body parser, an asynchronous middleware or guard), and without
 * its address it would escape range bans and deny-lists. Remembered per socket in a WeakMap: a
 * socket that is gone takes its entry with it.
 */
export class ConnectionPeers {
  private readonly peers = new WeakMap<object, string>();
  private readonly sources = new WeakSet<object>();
  private readonly upgradeSources = new WeakSet<object>();
  /** The headers of each WebSocket handshake, by the connection it upgraded. */
  private readonly upgrades = new WeakMap<object, Readonly<Record<string, string | string[] | undefined>>>();

  /** Remembers the peer of each connection `server` accepts from now on. False when it was already watched. */
  watch(server: ConnectionSource): boolean {
    if (this.sources.has(server)) return false;
    this.sources.add(server);
    const remember = (socket: PeerSocket) => this.remember(socket);
    server.on('connection', remember);
    // An HTTPS server's requests come on the TLS socket, a wrapper of the accepted one.
    server.on('secureConnection', remember);
    return true;
  }

  /**
   * Remembers the headers of each WebSocket handshake `server` receives from now on, by its
   * connection: a WebSocket client (the \`ws\` package) does not keep them, and forwarded headers
   * name the client behind a trusted proxy. Only for a server whose upgrades an adapter handles (an
   * \`upgrade\` listener that nobody answers would keep such connections open).
   */
  watchUpgrades(server: ConnectionSource): void {
    if (this.upgradeSources.has(server)) return;
    this.upgradeSources.add(server);
    server.on('upgrade', (request: UpgradeRequest) => {
      if (request.socket && request.headers) this.upgrades.set(request.socket, request.headers);
    });
  }

  /** The headers of the WebSocket handshake that upgraded `socket`, when its server is watched. */
  upgradeHeaders(socket: PeerSocket | undefined): Readonly<Record<string, string | string[] | undefined>> | undefined {
    return socket === undefined || socket === null ? undefined : this.upgrades.get(socket);
  }

  /** Remembers the peer of an accepted connection (a Unix socket or a pipe has none). */
  remember(socket: PeerSocket): void {
    const address = socket.remoteAddress;
    if (address !== undefined) this.peers.set(socket, address);
  }

  /** The peer address of a connection: its own while it has one, else the one it was accepted with. */
  peerOf(socket: PeerSocket | undefined): string | undefined {
    if (socket === undefined || socket === null) return undefined;
    return socket.remoteAddress ?? this.peers.get(socket);
  }
}
