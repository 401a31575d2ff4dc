import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * Which row an imported source record became, and a fingerprint of the source data it was
 * written from: a re-run skips a record whose fingerprint is unchanged, updates one whose
 * fingerprint changed, and inserts only records it has never seen. Written in the same
 * transaction as the rows it maps, so an interrupted import resumes where it stopped.
 */
export const ImportMapping = defineEntity({
  name: 'ImportMapping',
  tableName: 'import_mapping',
  properties: (p) => ({
    // e.g. `django.user`, `mongo.message`
    kind: p.string().length(40).primary(),
    sourceId: p.string().length(64).primary(),
    targetId: p.uuid(),
    fingerprint: p.string().length(64),
    importedAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
  primaryKeys: ['kind', 'sourceId'],
});

export type ImportMappingEntity = InferEntity<typeof ImportMapping>;
