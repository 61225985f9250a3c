import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

import type { BanKind, BanSource } from '../../ban-store.interface.js';

/** Default collection of `MongoBanStore`. */
export const BAN_COLLECTION = 'rampart_bans';

/**
 * One ban record per target, as `MongoBanStore` keeps it. Times are epoch ms (the app's clock);
 * `purgeAt` alone is a Date, for the TTL index.
 */
@Schema({ collection: BAN_COLLECTION, versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false })
export class BanRecord {
  /** `key:<key>` or `cidr:<canonical cidr>`. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, enum: ['key', 'cidr'] })
  targetType!: 'key' | 'cidr';

  /** The key, or the canonical CIDR. */
  @Prop({ type: String, required: true })
  target!: string;

  @Prop({ type: String, required: true, enum: ['temporary', 'permanent'] })
  kind!: BanKind;

  @Prop({ type: String })
  reason!: string;

  @Prop({ type: String, required: true, enum: ['auto', 'admin', 'ddos'] })
  source!: BanSource;

  @Prop({ type: String, required: true })
  createdBy!: string;

  @Prop({ type: Number, required: true })
  createdAtMs!: number;

  /** Temporary bans only. */
  @Prop({ type: Number })
  expiresAtMs?: number;

  @Prop({ type: Number, required: true })
  violationCount!: number;

  /** Incremented by every temporary ban of the target. */
  @Prop({ type: Number, required: true })
  blockCount!: number;

  @Prop({ type: Number })
  liftedAtMs?: number;

  @Prop({ type: String })
  liftedBy?: string;

  @Prop({ type: Number, required: true })
  updatedAtMs!: number;

  /**
   * Incremented (`$inc`) by every write of the record: what a conditional put compares. Absent on
   * records written before records carried one; the first write adds it.
   */
  @Prop({ type: Number })
  version?: number;

  /**
   * When the record may be deleted: the end of the ban (expiry or lift) plus the history retention.
   * Absent while a permanent ban is in force.
   */
  @Prop({ type: Date })
  purgeAt?: Date;
}

export const BanSchema = SchemaFactory.createForClass(BanRecord);

/** `list` (newest change first) and `changedSince` (the same index read backwards). */
BanSchema.index({ updatedAtMs: -1, _id: -1 }, { name: 'updatedAtMs_-1__id_-1' });
/** Deletes ended records once their history retention is over, where the server enforces TTL. */
BanSchema.index({ purgeAt: 1 }, { name: 'purgeAt_1', expireAfterSeconds: 0 });
