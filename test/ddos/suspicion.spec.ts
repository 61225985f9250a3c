import { DEFAULT_DDOS_WEIGHTS } from '../../lib/ddos/ddos-options.js';
import { EndpointTable, OTHER_ENDPOINT } from '../../lib/ddos/endpoint-table.js';
import { SlotRing } from '../../lib/ddos/slot-ring.js';
import { CLIENT_ENDPOINTS, ClientTraffic, signals, suspicionScore } from '../../lib/ddos/suspicion.js';

describe('SlotRing', () => {
  it('counts the last 10 slots, dropping each slot as the window passes it', () => {
    const ring = new SlotRing();
    ring.add(100, false);
    ring.add(100, true);
    ring.add(105, false);
    expect([ring.total, ring.errors, ring.peak()]).toEqual([3, 1, 2]);
    ring.advance(109); // slots 100..109: all still in
    expect(ring.total).toBe(3);
    ring.advance(110); // slot 100 leaves
    expect([ring.total, ring.errors, ring.peak()]).toEqual([1, 0, 1]);
    ring.addError(105);
    expect(ring.errors).toBe(1);
    // A slot already out of the ring is dropped; going back in time changes nothing.
    ring.add(100, true);
    ring.advance(50);
    expect([ring.total, ring.errors]).toEqual([1, 1]);
    ring.advance(1_000); // far ahead: emptied at once
    expect([ring.total, ring.errors, ring.peak()]).toEqual([0, 0, 0]);
  });
});

describe('the suspicion score', () => {
  it('computes each signal by its formula (hand-computed cases)', () => {
    // 60 requests spread evenly over 10 slots, one endpoint, no error: only the rate signal.
    expect(signals({ requests: 60, peak: 6, endpoints: 1, errors: 0 }, 300)).toEqual({ rate: 0.2, burst: 0, spread: 0, errors: 0 });
    // 100 requests all in one slot, 8 endpoints, 80 errors, threshold 50: burst (10·100/100 − 1)/9 = 1.
    expect(signals({ requests: 100, peak: 100, endpoints: 8, errors: 80 }, 50)).toEqual({ rate: 1, burst: 1, spread: 1, errors: 0.8 });
    // 5 requests in one slot: burst (10 − 1)/9 · 5/10 = 0.5; 3 endpoints: (3 − 1)/7.
    const few = signals({ requests: 5, peak: 5, endpoints: 3, errors: 6 }, 300);
    expect(few.burst).toBeCloseTo(0.5, 12);
    expect(few.spread).toBeCloseTo(2 / 7, 12);
    expect(few.errors).toBe(1); // capped: a late error status may land in a later slot
    expect(few.rate).toBeCloseTo(5 / 300, 12);
    // 20 requests, peak 4: (4·10/20 − 1)/9 = 1/9.
    expect(signals({ requests: 20, peak: 4, endpoints: 1, errors: 0 }, 300).burst).toBeCloseTo(1 / 9, 12);
    expect(signals({ requests: 0, peak: 0, endpoints: 0, errors: 0 }, 300)).toEqual({ rate: 0, burst: 0, spread: 0, errors: 0 });
  });

  it('weighs the signals by the default weights: 0.4 rate, 0.2 burst, 0.1 spread, 0.3 errors', () => {
    expect(suspicionScore({ rate: 1, burst: 1, spread: 1, errors: 1 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(1, 12);
    expect(suspicionScore({ rate: 1, burst: 1, spread: 0, errors: 0.8 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(0.4 + 0.2 + 0.24, 12);
    expect(suspicionScore({ rate: 0.2, burst: 0, spread: 0, errors: 0 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(0.08, 12);
    // No signal alone reaches the default threshold of 0.6.
    for (const signal of ['rate', 'burst', 'spread', 'errors'] as const) {
      expect(suspicionScore({ rate: 0, burst: 0, spread: 0, errors: 0, [signal]: 1 }, DEFAULT_DDOS_WEIGHTS)).toBeLessThan(0.6);
    }
  });
});

describe('ClientTraffic', () => {
  it('remembers at most 8 endpoints, the least recently reached replaced, and counts those of the window', () => {
    const client = new ClientTraffic();
    for (let endpoint = 1; endpoint <= 20; endpoint++) client.add(100 + endpoint, endpoint, false);
    // Slots 101..120: the window ending in slot 120 holds slots 111..120, and 8 endpoints are remembered.
    expect(client.figures(120)).toEqual({ requests: 10, peak: 1, endpoints: CLIENT_ENDPOINTS, errors: 0 });
    client.add(121, 20, true); // an endpoint it has: no replacement
    expect(client.figures(121)).toMatchObject({ requests: 10, endpoints: 8, errors: 1 });
    expect(client.figures(123)).toMatchObject({ requests: 8, endpoints: 7 }); // endpoint 13 (slot 113) left the window
    expect(client.figures(200)).toEqual({ requests: 0, peak: 0, endpoints: 0, errors: 0 });
  });
});

describe('EndpointTable', () => {
  it('counts at most maxEndpoints apart and the rest as (other), busiest first', () => {
    const table = new EndpointTable(2);
    const a = table.count('A', 1, false);
    table.count('A', 1, true);
    const b = table.count('B', 1, false);
    const c = table.count('C', 1, false);
    table.count('D', 1, false);
    table.count('D', 1, false);
    expect([a.id, b.id, c.id]).toEqual([1, 2, 0]);
    expect(table.size).toBe(2);
    expect(table.busiest(5, 1)).toEqual([
      { endpoint: OTHER_ENDPOINT, requests: 3, errors: 0 },
      { endpoint: 'A', requests: 2, errors: 1 },
      { endpoint: 'B', requests: 1, errors: 0 },
    ]);
    expect(table.busiest(1, 50)).toEqual([]);
  });
});
