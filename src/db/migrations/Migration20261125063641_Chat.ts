import { Migration } from '@mikro-orm/migrations';

export class Migration20261125063641_Chat extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "conversation" ("id" uuid not null, "investor_id" uuid not null, "startup_id" uuid not null, "created_at" timestamptz not null, "last_activity_at" timestamptz not null, constraint "conversation_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "conversation_investor_activity_idx" on "conversation" ("investor_id", "last_activity_at" desc, "id" desc);`);
    this.addSql(`create index "conversation_startup_activity_idx" on "conversation" ("startup_id", "last_activity_at" desc, "id" desc);`);
    this.addSql(`alter table "conversation" add constraint "conversation_pair_unique" unique ("investor_id", "startup_id");`);

    this.addSql(
      `create table "message" ("id" uuid not null, "conversation_id" uuid not null, "sender_id" uuid not null, "body" text not null, "created_at" timestamptz not null, constraint "message_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "message_sender_id_index" on "message" ("sender_id");`);
    this.addSql(`create index "message_history_idx" on "message" ("conversation_id", "created_at" desc, "id" desc);`);

    this.addSql(
      `create table "conversation_read" ("user_id" uuid not null, "conversation_id" uuid not null, "last_read_at" timestamptz not null, constraint "conversation_read_pkey" primary key ("user_id", "conversation_id"));`,
    );

    this.addSql(
      `alter table "conversation" add constraint "conversation_investor_id_foreign" foreign key ("investor_id") references "user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "conversation" add constraint "conversation_startup_id_foreign" foreign key ("startup_id") references "user" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "message" add constraint "message_conversation_id_foreign" foreign key ("conversation_id") references "conversation" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "message" add constraint "message_sender_id_foreign" foreign key ("sender_id") references "user" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "conversation_read" add constraint "conversation_read_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "conversation_read" add constraint "conversation_read_conversation_id_foreign" foreign key ("conversation_id") references "conversation" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "message" drop constraint "message_conversation_id_foreign";`);

    this.addSql(`alter table "conversation_read" drop constraint "conversation_read_conversation_id_foreign";`);

    this.addSql(`drop table if exists "conversation" cascade;`);

    this.addSql(`drop table if exists "message" cascade;`);

    this.addSql(`drop table if exists "conversation_read" cascade;`);
  }
}
