import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries an alert's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'Rampart-Signature';

/** How old a signature `verifyAlertSignature` accepts by default, in seconds (and how far ahead of the receiver's clock). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`. */
function digest(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
}

/**
 * The `Rampart-Signature` value of `body` sent at `timestampSeconds`: the timestamp is signed with
 * the body, so that a captured request cannot be replayed once it is older than the receiver's
 * tolerance.
 */
export function signAlert(secret: string, body: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${digest(secret, timestampSeconds, body)}`;
}

/**
 * Whether `header` (a `Rampart-Signature` value) signs `rawBody` under `secret` with a timestamp
 * within `toleranceSeconds` of `nowSeconds`. Pass the body exactly as received (the raw bytes as
 * text, before any JSON parsing). Several `v1` values (during a change of secret) may be given;
 * one that matches is enough. Compares in constant time.
 *
 * @example
 * app.post('/rampart', express.raw({ type: 'application/json' }), (req, res) => {
 *   const body = req.body.toString('utf8');
 *   if (!verifyAlertSignature(process.env.ALERT_SECRET, req.get('rampart-signature'), body)) return res.sendStatus(401);
 *   const alert: AlertEvent = JSON.parse(body);
 *   res.sendStatus(204);
 * });
 */
export function verifyAlertSignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (typeof header !== 'string') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(digest(secret, timestamp, rawBody), 'hex');
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
}
