import { DDOS_SLOTS, DEFAULT_DDOS, DEFAULT_DDOS_WEIGHTS } from '../../lib/ddos/ddos-options.js';
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

  it('weighs the signals by the default weights: 0.4 rate, 0.15 burst, 0.05 spread, 0.4 errors', () => {
    expect(suspicionScore({ rate: 1, burst: 1, spread: 1, errors: 1 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(1, 12);
    expect(suspicionScore({ rate: 1, burst: 1, spread: 0, errors: 0.8 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(0.4 + 0.15 + 0.32, 12);
    expect(suspicionScore({ rate: 0.2, burst: 0, spread: 0, errors: 0 }, DEFAULT_DDOS_WEIGHTS)).toBeCloseTo(0.08, 12);
    // No signal alone reaches 0.6 (nor, then, the default threshold of 0.65).
    for (const signal of ['rate', 'burst', 'spread', 'errors'] as const) {
      expect(suspicionScore({ rate: 0, burst: 0, spread: 0, errors: 0, [signal]: 1 }, DEFAULT_DDOS_WEIGHTS)).toBeLessThan(0.6);
    }
  });

  it('never makes a client without errors a suspect with the defaults: rate + burst + spread weigh 0.6, under 0.65', () => {
    const { scoreThreshold, clientThreshold } = DEFAULT_DDOS;
    expect(scoreThreshold).toBe(0.65);
    const worst = suspicionScore({ rate: 1, burst: 1, spread: 1, errors: 0 }, DEFAULT_DDOS_WEIGHTS);
    expect(worst).toBeCloseTo(0.6, 12);
    expect(worst).toBeLessThan(scoreThreshold);
    // Every error-free client, from 1 to 3 × clientThreshold requests, any peak, any endpoints.
    let highest = 0;
    for (let requests = 1; requests <= 3 * clientThreshold; requests += requests < 40 ? 1 : 7)
      for (let peak = Math.ceil(requests / DDOS_SLOTS); peak <= requests; peak += Math.max(1, Math.floor(requests / 13)))
        for (let endpoints = 1; endpoints <= CLIENT_ENDPOINTS; endpoints++) {
          const score = suspicionScore(signals({ requests, peak, endpoints, errors: 0 }, clientThreshold), DEFAULT_DDOS_WEIGHTS);
          highest = Math.max(highest, score);
        }
    expect(highest).toBeCloseTo(0.6, 12);
    expect(highest).toBeLessThan(scoreThreshold);
    // The cases that reached the old 0.6 threshold: 300 successes in one slot, or 165 of 300 over 8 endpoints.
    for (const figures of [
      { requests: 300, peak: 300, endpoints: 1, errors: 0 },
      { requests: 300, peak: 165, endpoints: 8, errors: 0 },
      { requests: 1_000, peak: 1_000, endpoints: 8, errors: 0 },
    ])
      expect(suspicionScore(signals(figures, clientThreshold), DEFAULT_DDOS_WEIGHTS)).toBeLessThan(scoreThreshold);
  });

  it('makes a client with errors a suspect with the defaults, as the README states', () => {
    const { scoreThreshold, clientThreshold } = DEFAULT_DDOS;
    const score = (figures: { requests: number; peak: number; endpoints: number; errors: number }) =>
      suspicionScore(signals(figures, clientThreshold), DEFAULT_DDOS_WEIGHTS);
    // At the full rate in one burst: a quarter of errors; spread evenly: five in eight.
    expect(score({ requests: 300, peak: 300, endpoints: 1, errors: 75 })).toBeGreaterThanOrEqual(scoreThreshold);
    expect(score({ requests: 300, peak: 300, endpoints: 1, errors: 70 })).toBeLessThan(scoreThreshold);
    expect(score({ requests: 300, peak: 30, endpoints: 1, errors: 188 })).toBeGreaterThanOrEqual(scoreThreshold);
    expect(score({ requests: 300, peak: 30, endpoints: 1, errors: 180 })).toBeLessThan(scoreThreshold);
    // Every request failing: from an eighth of the rate in one burst over 8 endpoints, five eighths spread evenly on one.
    expect(score({ requests: 38, peak: 38, endpoints: 8, errors: 38 })).toBeGreaterThanOrEqual(scoreThreshold);
    expect(score({ requests: 36, peak: 36, endpoints: 8, errors: 36 })).toBeLessThan(scoreThreshold);
    expect(score({ requests: 190, peak: 19, endpoints: 1, errors: 190 })).toBeGreaterThanOrEqual(scoreThreshold);
    expect(score({ requests: 180, peak: 18, endpoints: 1, errors: 180 })).toBeLessThan(scoreThreshold);
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
