import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * The state of one client under one rule (`_id` is the guard's key). Which fields are used depends
 * on the rule's algorithm, and every decision is one atomic update of this one document:
 *
 * - fixed window, sliding window counter: one counter per window, `c<window index>` (`$inc`);
 * - token bucket, GCRA: `t`, the theoretical arrival time in the rule's grid units (`$inc`, `$set`);
 * - sliding log: `s`, the log, and `v`, its version (compare-and-set on `v`).
 *
 * `b` is the end of a block started by the rule's `blockDurationMs` (epoch ms, 0 for none) and `e`
 * the time from which the document means nothing any more (TTL index, or the sweeper).
 */
@Schema({ strict: false, versionKey: false, autoIndex: false, autoCreate: false })
export class RateLimitState {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Number, default: 0 })
  b!: number;

  @Prop({ type: Number })
  t?: number;

  @Prop({ type: [Number], default: undefined })
  s?: number[];

  @Prop({ type: Number })
  v?: number;

  @Prop({ type: Date, required: true })
  e!: Date;
}

export const RateLimitStateSchema = SchemaFactory.createForClass(RateLimitState);

/** Deletes a document once it expires, where the server enforces TTL (`MongoSweeper` elsewhere). */
RateLimitStateSchema.index({ e: 1 }, { name: 'e_ttl', expireAfterSeconds: 0 });
