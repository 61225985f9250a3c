import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** Default collection of `MongoViolationStore`. */
export const VIOLATION_COLLECTION = 'rampart_violations';

/**
 * One violation event, as `MongoViolationStore` keeps it. `_id` is the driver's ObjectId (it breaks
 * ties between violations of the same millisecond). `purgeAt` (`atMs` + retention) is for the TTL index.
 */
@Schema({ collection: VIOLATION_COLLECTION, versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false })
export class ViolationRecord {
  @Prop({ type: String, required: true })
  key!: string;

  @Prop({ type: String })
  rule!: string;

  @Prop({ type: String })
  route!: string;

  @Prop({ type: String })
  method!: string;

  @Prop({ type: Number, required: true })
  hits!: number;

  @Prop({ type: Number, required: true })
  limit!: number;

  @Prop({ type: Number, required: true })
  atMs!: number;

  @Prop({ type: Date, required: true })
  purgeAt!: Date;
}

export const ViolationSchema = SchemaFactory.createForClass(ViolationRecord);

/** `count(key, sinceMs)` and `list({ key })`, newest first. */
ViolationSchema.index({ key: 1, atMs: -1, _id: -1 }, { name: 'key_1_atMs_-1__id_-1' });
/** `list()` newest first, and `purge(beforeMs)`. */
ViolationSchema.index({ atMs: -1, _id: -1 }, { name: 'atMs_-1__id_-1' });
/** Deletes violations past their retention, where the server enforces TTL. */
ViolationSchema.index({ purgeAt: 1 }, { name: 'purgeAt_1', expireAfterSeconds: 0 });
