import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './common.schema.js';
import '../modules/user/user.schema.js';
import '../modules/company/company.schema.js';
import '../modules/auth/registration.schema.js';
import '../modules/auth/auth.schema.js';
import '../modules/auth/connection.schema.js';
import '../modules/chat/chat.schema.js';
import '../modules/user/settings.schema.js';
import '../modules/presence/presence.schema.js';
import '../modules/chat/conversation-events.schema.js';

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql; sorted so that diffs show only real changes. */
export const printSortedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
