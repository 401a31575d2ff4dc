import { Migration } from '@mikro-orm/migrations';

export class Migration20261125062853_Sessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "session" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null, "last_used_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoke_reason" varchar(50) null, "user_agent" varchar(500) null, "ip" varchar(64) null, constraint "session_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "session_user_id_index" on "session" ("user_id");`);
    this.addSql(`create index "session_expires_at_index" on "session" ("expires_at");`);
    this.addSql(`create index "session_revoked_at_index" on "session" ("revoked_at");`);

    this.addSql(
      `create table "refresh_token" ("jti" uuid not null, "session_id" uuid not null, "access_jti" uuid not null, "parent_jti" uuid null, "issued_at" timestamptz not null, "expires_at" timestamptz not null, "access_expires_at" timestamptz not null, "used_at" timestamptz null, "successor_jti" uuid null, "revoked_at" timestamptz null, constraint "refresh_token_pkey" primary key ("jti"));`,
    );
    this.addSql(`create index "refresh_token_session_id_index" on "refresh_token" ("session_id");`);
    this.addSql(`create index "refresh_token_expires_at_index" on "refresh_token" ("expires_at");`);

    this.addSql(
      `alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "user" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "refresh_token" add constraint "refresh_token_session_id_foreign" foreign key ("session_id") references "session" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "refresh_token" drop constraint "refresh_token_session_id_foreign";`);

    this.addSql(`drop table if exists "session" cascade;`);

    this.addSql(`drop table if exists "refresh_token" cascade;`);
  }
}
