import { Migration } from '@mikro-orm/migrations';

export class Migration20261125063834_ProfileIndexes extends Migration {
  override async up(): Promise<void> {
    // Trigram indexes make `search` (ILIKE '%term%') fast; pg_trgm is a trusted extension in PostgreSQL 13+,
    // so a database owner can create it without superuser rights.
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`alter table "startup_profile" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);
    this.addSql(`create index "startup_profile_created_at_id_index" on "startup_profile" ("created_at", "id");`);
    this.addSql(`create index "startup_profile_industry_id_created_at_id_index" on "startup_profile" ("industry_id", "created_at", "id");`);
    this.addSql(`create index "startup_profile_location_id_created_at_id_index" on "startup_profile" ("location_id", "created_at", "id");`);
    this.addSql(
      `create index "startup_profile_search_index" on "startup_profile" using gin (("company_name" || ' ' || coalesce("description", '')) gin_trgm_ops);`,
    );

    this.addSql(`alter table "investor_profile" alter column "created_at" type timestamptz(3) using ("created_at"::timestamptz(3));`);
    this.addSql(`create index "investor_profile_created_at_id_index" on "investor_profile" ("created_at", "id");`);
    this.addSql(`create index "investor_profile_location_id_created_at_id_index" on "investor_profile" ("location_id", "created_at", "id");`);
    this.addSql(
      `create index "investor_profile_search_index" on "investor_profile" using gin (("company_name" || ' ' || coalesce("description", '')) gin_trgm_ops);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "investor_profile_created_at_id_index";`);
    this.addSql(`drop index "investor_profile_location_id_created_at_id_index";`);
    this.addSql(`drop index "investor_profile_search_index";`);

    this.addSql(`alter table "investor_profile" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);

    this.addSql(`drop index "startup_profile_created_at_id_index";`);
    this.addSql(`drop index "startup_profile_industry_id_created_at_id_index";`);
    this.addSql(`drop index "startup_profile_location_id_created_at_id_index";`);
    this.addSql(`drop index "startup_profile_search_index";`);

    this.addSql(`alter table "startup_profile" alter column "created_at" type timestamptz(6) using ("created_at"::timestamptz(6));`);
    // pg_trgm stays: other objects may use it by now, and keeping it is harmless.
  }
}
