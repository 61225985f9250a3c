import { EventEmitter } from 'node:events';
import { ConnectionPeers } from '../../../lib/core/ip/connection-peers.js';

/** A socket whose address goes away, as a reset connection's does. */
class FakeSocket {
  constructor(public remoteAddress: string | undefined) {}
}

describe('ConnectionPeers', () => {
  it("remembers each accepted connection's peer, for when a reset has taken it away", () => {
    const server = new EventEmitter();
    const peers = new ConnectionPeers();
    expect(peers.watch(server)).toBe(true);
    expect(peers.watch(server)).toBe(false);
    const tcp = new FakeSocket('203.0.113.5');
    const tls = new FakeSocket('2001:db8::5');
    server.emit('connection', tcp);
    server.emit('secureConnection', tls);
    expect(server.listenerCount('connection')).toBe(1);
    tcp.remoteAddress = undefined;
    tls.remoteAddress = undefined;
    expect(peers.peerOf(tcp)).toBe('203.0.113.5');
    expect(peers.peerOf(tls)).toBe('2001:db8::5');
  });

  it('gives the live address first, and nothing for an unknown socket, a Unix socket or no socket', () => {
    const server = new EventEmitter();
    const peers = new ConnectionPeers();
    peers.watch(server);
    const socket = new FakeSocket('203.0.113.5');
    server.emit('connection', socket);
    socket.remoteAddress = '203.0.113.6';
    expect(peers.peerOf(socket)).toBe('203.0.113.6');
    expect(peers.peerOf(new FakeSocket(undefined))).toBeUndefined();
    const unix = new FakeSocket(undefined);
    server.emit('connection', unix);
    expect(peers.peerOf(unix)).toBeUndefined();
    expect(peers.peerOf(undefined)).toBeUndefined();
  });
});
