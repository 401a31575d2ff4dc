import { Migration } from '@mikro-orm/migrations';

/**
 * Takes `last_activity_at` out of every index of `conversation`, so that the update each message
 * makes to it is a HOT update (heap only), and leaves room in each page for those updates (see
 * the Conversation entity). The investor side lists through the pair's unique index.
 */
export class Migration20261204050000_ConversationActivityUnindexed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index "conversation_investor_activity_idx";`);
    this.addSql(`drop index "conversation_startup_activity_idx";`);
    this.addSql(`create index "conversation_startup_id_index" on "conversation" ("startup_id");`);
    this.addSql(`alter table "conversation" set (fillfactor = 50);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "conversation" reset (fillfactor);`);
    this.addSql(`drop index "conversation_startup_id_index";`);
    this.addSql(`create index "conversation_investor_activity_idx" on "conversation" ("investor_id", "last_activity_at" desc, "id" desc);`);
    this.addSql(`create index "conversation_startup_activity_idx" on "conversation" ("startup_id", "last_activity_at" desc, "id" desc);`);
  }
}
