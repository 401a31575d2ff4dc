import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Session } from './session.entity.js';

/**
 * Every refresh token ever issued (SimpleJWT's OutstandingToken), never the token itself: its
 * claims are rebuilt from this row, so the grace window can hand out the same pair again.
 */
export const RefreshToken = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_token',
  properties: (p) => ({
    jti: p.uuid().primary(),
    session: p.manyToOne(Session).ref().deleteRule('cascade').index(),
    accessJti: p.uuid(),
    parentJti: p.uuid().nullable(),
    issuedAt: p.datetime(),
    expiresAt: p.datetime().index(),
    accessExpiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    successorJti: p.uuid().nullable(),
    revokedAt: p.datetime().nullable(),
  }),
});

export type RefreshTokenEntity = InferEntity<typeof RefreshToken>;
