import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

import type { AccessListKind } from '../../access-list-store.interface.js';

/** Default collection of `MongoAccessListStore`. */
export const ACCESS_LIST_COLLECTION = 'rampart_access_list';

/** One allow- or deny-list entry, as `MongoAccessListStore` keeps it. Times are epoch ms. */
@Schema({ collection: ACCESS_LIST_COLLECTION, versionKey: false, strict: 'throw', autoIndex: false, autoCreate: false })
export class AccessListEntryRecord {
  /** `<kind>:<canonical cidr>`. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, enum: ['allow', 'deny'] })
  kind!: AccessListKind;

  /** Canonical CIDR. */
  @Prop({ type: String, required: true })
  cidr!: string;

  @Prop({ type: String })
  note?: string;

  @Prop({ type: String, required: true })
  createdBy!: string;

  @Prop({ type: Number, required: true })
  createdAtMs!: number;

  @Prop({ type: Number })
  expiresAtMs?: number;

  /** Set when removed: the record stays so that other instances see the removal. */
  @Prop({ type: Number })
  removedAtMs?: number;

  @Prop({ type: Number, required: true })
  updatedAtMs!: number;

  /** When the record may be deleted: its end (expiry or removal) plus the history retention. */
  @Prop({ type: Date })
  purgeAt?: Date;
}

export const AccessListEntrySchema = SchemaFactory.createForClass(AccessListEntryRecord);

/** `changedSince`, oldest change first. */
AccessListEntrySchema.index({ updatedAtMs: 1, _id: 1 }, { name: 'updatedAtMs_1__id_1' });
/** Deletes ended entries once their history retention is over, where the server enforces TTL. */
AccessListEntrySchema.index({ purgeAt: 1 }, { name: 'purgeAt_1', expireAfterSeconds: 0 });
