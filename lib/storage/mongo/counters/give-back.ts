import type { mongo } from 'mongoose';
import type { StateDocument } from './state.document.js';

/** Attempts of a refund whose document changed between its conditional updates. */
export const MAX_GIVE_BACK_ATTEMPTS = 8;

/**
 * Takes `amount` off the number field `field` of a key's document, never below `floor`: the number
 * becomes max(floor, value − amount), and nothing changes when it is at or below `floor` already
 * (or absent). Each attempt is one conditional single-document update decided by the server on the
 * current value (the whole amount when the value holds it, else down to `floor`), never a write
 * computed from a read; only when neither matched does a read tell whether the value grew in between
 * (another request counted), which calls for another attempt. Returns the value after, `undefined`
 * when nothing changed.
 */
export async function giveBack(
  collection: mongo.Collection<StateDocument>,
  key: string,
  field: 't' | `c${number}`,
  floor: number,
  amount: number,
): Promise<number | undefined> {
  const projection = { [field]: 1 };
  const where = (condition: object) => ({ _id: key, [field]: condition }) as mongo.Filter<StateDocument>;
  for (let attempt = 0; attempt < MAX_GIVE_BACK_ATTEMPTS; attempt++) {
    const whole = await collection.findOneAndUpdate(where({ $gte: floor + amount }), { $inc: { [field]: -amount } }, { returnDocument: 'after', projection });
    if (whole) return whole[field];
    const part = await collection.findOneAndUpdate(
      where({ $gt: floor, $lt: floor + amount }),
      { $set: { [field]: floor } },
      { returnDocument: 'after', projection },
    );
    if (part) return floor;
    const now = await collection.findOne({ _id: key }, { projection });
    const value = now?.[field];
    if (value === undefined || value <= floor) return undefined;
  }
  throw new Error(
    `MongoRateLimitStore: gave up giving back ${amount} on key ${JSON.stringify(key)} after ${MAX_GIVE_BACK_ATTEMPTS} concurrent updates in a row.`,
  );
}
