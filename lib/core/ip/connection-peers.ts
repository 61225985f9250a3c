/** A connection as Node's servers hand it over: `net.Socket`, `tls.TLSSocket`. */
export interface PeerSocket {
  readonly remoteAddress?: string;
}

/** A server whose connections can be watched: Node's `net`, `http` and `https` servers (Express's and Fastify's). */
export interface ConnectionSource {
  on(event: 'connection' | 'secureConnection', listener: (socket: PeerSocket) => void): unknown;
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
