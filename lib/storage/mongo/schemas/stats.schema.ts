import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { InstanceStatsSummary } from '../../../observability/stats-summary.js';

/** Default collection of `MongoStatsStore`. */
export const STATS_COLLECTION = 'rampart_stats';

/**
 * One instance's statistics summary (`_id` is the instance): `s`, the summary (client keys and rule
 * names only as array values, never as field names), and `e`, its expiry, after which it means
 * nothing (TTL index, or the sweeper).
 */
@Schema({ collection: STATS_COLLECTION, versionKey: false, strict: false, autoIndex: false, autoCreate: false })
export class StatsRecord {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Object, required: true })
  s!: InstanceStatsSummary;

  @Prop({ type: Date, required: true })
  e!: Date;
}

export const StatsRecordSchema = SchemaFactory.createForClass(StatsRecord);

/** `list(nowMs)` reads the summaries not expired; the server deletes expired ones where it enforces TTL (`MongoSweeper` elsewhere). */
StatsRecordSchema.index({ e: 1 }, { name: 'e_ttl', expireAfterSeconds: 0 });
