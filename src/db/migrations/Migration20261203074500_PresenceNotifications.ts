import { Migration } from '@mikro-orm/migrations';

export class Migration20261203074500_PresenceNotifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "user_settings" ("user_id" uuid not null, "email_on_unread_messages" boolean not null default true, "show_presence" boolean not null default true, "updated_at" timestamptz not null, constraint "user_settings_pkey" primary key ("user_id"));`,
    );
    this.addSql(
      `alter table "user_settings" add constraint "user_settings_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `create table "user_presence" ("user_id" uuid not null, "last_seen_at" timestamptz not null, constraint "user_presence_pkey" primary key ("user_id"));`,
    );
    this.addSql(
      `alter table "user_presence" add constraint "user_presence_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `create table "unread_email_notice" ("user_id" uuid not null, "conversation_id" uuid not null, "covered_up_to" timestamptz not null, "queued_at" timestamptz not null, constraint "unread_email_notice_pkey" primary key ("user_id", "conversation_id"));`,
    );
    this.addSql(
      `alter table "unread_email_notice" add constraint "unread_email_notice_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "unread_email_notice" add constraint "unread_email_notice_conversation_id_foreign" foreign key ("conversation_id") references "conversation" ("id") on update cascade on delete cascade;`,
    );

    // One row: how far the due-email scan has examined messages. Messages sent before this
    // migration are never emailed about.
    this.addSql(
      `create table "unread_email_scan" ("id" smallint not null, "scanned_created_at" timestamptz not null, "scanned_message_id" uuid not null, constraint "unread_email_scan_pkey" primary key ("id"));`,
    );
    this.addSql(
      `insert into "unread_email_scan" ("id", "scanned_created_at", "scanned_message_id") values (1, now(), '00000000-0000-0000-0000-000000000000');`,
    );
    this.addSql(`create index "message_created_idx" on "message" ("created_at", "id");`);

    this.addSql(`alter table "mail_outbox" add column "headers" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "mail_outbox" drop column "headers";`);
    this.addSql(`drop index "message_created_idx";`);
    this.addSql(`drop table if exists "unread_email_scan" cascade;`);
    this.addSql(`drop table if exists "unread_email_notice" cascade;`);
    this.addSql(`drop table if exists "user_presence" cascade;`);
    this.addSql(`drop table if exists "user_settings" cascade;`);
  }
}
