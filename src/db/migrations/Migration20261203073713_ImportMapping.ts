import { Migration } from '@mikro-orm/migrations';

export class Migration20261203073713_ImportMapping extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "import_mapping" ("kind" varchar(40) not null, "source_id" varchar(64) not null, "target_id" uuid not null, "fingerprint" varchar(64) not null, "imported_at" timestamptz not null, "updated_at" timestamptz not null, constraint "import_mapping_pkey" primary key ("kind", "source_id"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "import_mapping" cascade;`);
  }
}
