import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { AdaptiveState } from '../../../adaptive/adaptive-math.js';

/** Default collection of `MongoAdaptiveStore`. */
export const ADAPTIVE_COLLECTION = 'rampart_adaptive';

/**
 * The adaptive-limit state of one store key (`_id`, a rule and a client): `s`, a handful of
 * numbers, and `e`, its expiry, after which it means nothing (TTL index, or the sweeper).
 */
@Schema({ collection: ADAPTIVE_COLLECTION, versionKey: false, strict: false, autoIndex: false, autoCreate: false })
export class AdaptiveRecord {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Object, required: true })
  s!: AdaptiveState;

  @Prop({ type: Date, required: true })
  e!: Date;
}

export const AdaptiveRecordSchema = SchemaFactory.createForClass(AdaptiveRecord);

AdaptiveRecordSchema.index({ e: 1 }, { name: 'e_ttl', expireAfterSeconds: 0 });
