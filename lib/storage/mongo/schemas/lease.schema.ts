import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** Default collection of `MongoLeaseStore`. */
export const LEASE_COLLECTION = 'rampart_leases';

/** One lease inside a pool document: its id, its holder, its expiry (epoch ms, the app's clock). */
export interface LeaseEntry {
  i: string;
  h: string;
  x: number;
}

/**
 * One pool of leases (`_id` is its key): the live and lapsed leases `l`, and `e`, the latest expiry
 * of any of them, after which the document means nothing (TTL index, or the sweeper).
 */
@Schema({ collection: LEASE_COLLECTION, versionKey: false, strict: false, autoIndex: false, autoCreate: false })
export class LeasePool {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: [Object], default: [] })
  l!: LeaseEntry[];

  @Prop({ type: Date, required: true })
  e!: Date;
}

export const LeasePoolSchema = SchemaFactory.createForClass(LeasePool);

/** Renewing and releasing an instance's leases finds its pools by holder. */
LeasePoolSchema.index({ 'l.h': 1 }, { name: 'l_h' });
/** Deletes a pool once its last lease lapsed, where the server enforces TTL (`MongoSweeper` elsewhere). */
LeasePoolSchema.index({ e: 1 }, { name: 'e_ttl', expireAfterSeconds: 0 });
