import { grpcPeerAddress } from '../../lib/rpc/rpc-call.js';

const peer = (text: unknown) => grpcPeerAddress({ getPeer: () => text } as unknown as Parameters<typeof grpcPeerAddress>[0]);

describe('grpcPeerAddress', () => {
  it('reads the address of every form grpc-js gives, the port stripped', () => {
    expect(peer('127.0.0.1:50051')).toBe('127.0.0.1');
    expect(peer('::1:50051')).toBe('::1');
    expect(peer('[2001:db8::5]:443')).toBe('2001:db8::5');
    expect(peer('::ffff:127.0.0.1:50051')).toBe('::ffff:127.0.0.1');
  });

  it('never takes a short port for the last group of an IPv6 address (which would move the client to another address)', () => {
    // `2001:db8:1:2::5:1234` is an address too: the port must still be stripped.
    expect(peer('2001:db8:1:2::5:1234')).toBe('2001:db8:1:2::5');
    expect(peer('2001:db8::a:b:c:d:1024')).toBe('2001:db8::a:b:c:d');
  });

  it('gives no address for a Unix socket, an unknown peer or a value that is not text', () => {
    expect(peer('unix:/tmp/grpc.sock')).toBeUndefined();
    expect(peer('unknown')).toBeUndefined();
    expect(peer(undefined)).toBeUndefined();
  });
});
