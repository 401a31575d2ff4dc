import { Migration } from '@mikro-orm/migrations';

export class Migration20261125061808_Foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "user_role" as enum ('STARTUP', 'INVESTOR');`);
    this.addSql(`create type "email_token_purpose" as enum ('activation', 'password_reset');`);
    this.addSql(
      `create table "email_cooldown" ("address" varchar(254) not null, "purpose" varchar(50) not null, "sent_at" timestamptz not null, constraint "email_cooldown_pkey" primary key ("address", "purpose"));`,
    );

    this.addSql(`create table "industry" ("id" serial primary key, "name" varchar(100) not null);`);
    this.addSql(`alter table "industry" add constraint "industry_name_unique" unique ("name");`);

    this.addSql(`create table "location" ("id" serial primary key, "country" varchar(100) not null, "city" varchar(100) null);`);
    this.addSql(`alter table "location" add constraint "location_country_city_unique" unique ("country", "city");`);

    this.addSql(
      `create table "mail_outbox" ("id" uuid not null, "kind" varchar(50) not null, "recipient" varchar(254) not null, "subject" varchar(300) not null, "text" text not null, "html" text not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "sent_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "mail_outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "mail_outbox_pending_idx" on "mail_outbox" ("next_attempt_at") where "sent_at" is null;`);

    this.addSql(
      `create table "user" ("id" uuid not null, "email" varchar(254) not null, "password_hash" varchar(255) not null, "role" "user_role" not null, "first_name" varchar(100) null, "last_name" varchar(100) null, "is_active" boolean not null default false, "activated_at" timestamptz null, "password_changed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "user_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "user" add constraint "user_email_unique" unique ("email");`);

    this.addSql(
      `create table "startup_profile" ("id" uuid not null, "owner_id" uuid not null, "company_name" varchar(200) not null, "website" varchar(2048) not null, "description" text null, "industry_id" int null, "location_id" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "startup_profile_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "startup_profile" add constraint "startup_profile_owner_id_unique" unique ("owner_id");`);

    this.addSql(
      `create table "investor_profile" ("id" uuid not null, "owner_id" uuid not null, "company_name" varchar(200) not null, "website" varchar(2048) not null, "description" text null, "location_id" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "investor_profile_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "investor_profile" add constraint "investor_profile_owner_id_unique" unique ("owner_id");`);

    this.addSql(
      `create table "email_token" ("id" uuid not null, "user_id" uuid not null, "purpose" "email_token_purpose" not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "email_token_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "email_token" add constraint "email_token_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "email_token_expires_at_index" on "email_token" ("expires_at");`);
    this.addSql(`create index "email_token_user_id_purpose_index" on "email_token" ("user_id", "purpose");`);

    this.addSql(
      `alter table "startup_profile" add constraint "startup_profile_owner_id_foreign" foreign key ("owner_id") references "user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "startup_profile" add constraint "startup_profile_industry_id_foreign" foreign key ("industry_id") references "industry" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "startup_profile" add constraint "startup_profile_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "investor_profile" add constraint "investor_profile_owner_id_foreign" foreign key ("owner_id") references "user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "investor_profile" add constraint "investor_profile_location_id_foreign" foreign key ("location_id") references "location" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "email_token" add constraint "email_token_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "startup_profile" drop constraint "startup_profile_industry_id_foreign";`);

    this.addSql(`alter table "startup_profile" drop constraint "startup_profile_location_id_foreign";`);

    this.addSql(`alter table "investor_profile" drop constraint "investor_profile_location_id_foreign";`);

    this.addSql(`alter table "startup_profile" drop constraint "startup_profile_owner_id_foreign";`);

    this.addSql(`alter table "investor_profile" drop constraint "investor_profile_owner_id_foreign";`);

    this.addSql(`alter table "email_token" drop constraint "email_token_user_id_foreign";`);

    this.addSql(`drop table if exists "email_cooldown" cascade;`);

    this.addSql(`drop table if exists "industry" cascade;`);

    this.addSql(`drop table if exists "location" cascade;`);

    this.addSql(`drop table if exists "mail_outbox" cascade;`);

    this.addSql(`drop table if exists "user" cascade;`);

    this.addSql(`drop table if exists "startup_profile" cascade;`);

    this.addSql(`drop table if exists "investor_profile" cascade;`);

    this.addSql(`drop table if exists "email_token" cascade;`);

    this.addSql(`drop type "user_role";`);
    this.addSql(`drop type "email_token_purpose";`);
  }
}
