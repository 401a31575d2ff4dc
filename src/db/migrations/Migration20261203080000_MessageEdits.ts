import { Migration } from '@mikro-orm/migrations';

export class Migration20261203080000_MessageEdits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "message" add column "edited_at" timestamptz null, add column "deleted_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "message" drop column "edited_at", drop column "deleted_at";`);
  }
}
