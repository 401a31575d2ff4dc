import type pg from 'pg';

// Reads the original's PostgreSQL database (tables as its Django migrations create them) in
// keyset pages, inside one read-only snapshot, so memory stays flat and every page agrees.

export interface DjangoUserRow {
  id: string;
  password: string;
  email: string;
  first_name: string;
  last_name: string;
  is_active: boolean;
  is_staff: boolean;
  is_superuser: boolean;
  date_joined: Date;
  role: string | null;
}

export interface DjangoStartupProfileRow {
  id: string;
  user_id: string;
  company_name: string;
  description: string;
  website: string;
  industry: string | null;
  location: string | null;
}

export interface DjangoInvestorProfileRow {
  id: string;
  user_id: string;
  company_name: string;
  website: string;
}

export interface DjangoUserBatch {
  users: DjangoUserRow[];
  startupProfiles: DjangoStartupProfileRow[];
  investorProfiles: DjangoInvestorProfileRow[];
}

export class DjangoSource {
  constructor(private readonly client: pg.Client) {}

  /** A consistent view for the whole run, whatever the original does meanwhile. */
  async beginSnapshot(): Promise<void> {
    await this.client.query('begin isolation level repeatable read read only');
  }

  async endSnapshot(): Promise<void> {
    await this.client.query('rollback');
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>('select count(*) as n from "users_userprofile"');
    return Number(rows[0]!.n);
  }

  async industryNames(): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>('select "name" from "profiles_industry" order by "id"');
    return rows.map((row) => row.name);
  }

  async locationNames(): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>('select "name" from "profiles_location" order by "id"');
    return rows.map((row) => row.name);
  }

  /**
   * Groups of accounts whose emails differ only by case (the original's UNIQUE(email) is
   * case-sensitive), oldest account first.
   */
  async emailCollisions(): Promise<Array<{ ids: string[]; emails: string[] }>> {
    const { rows } = await this.client.query<{ ids: string[]; emails: string[] }>(
      `select array_agg("id"::text order by "date_joined", "id") as "ids", array_agg("email" order by "date_joined", "id") as "emails"
       from "users_userprofile" group by lower(trim("email")) having count(*) > 1`,
    );
    return rows;
  }

  /** Users by ascending id with their profiles, a page at a time. */
  async *userBatches(batchSize: number): AsyncGenerator<DjangoUserBatch> {
    let after = '0';
    for (;;) {
      const { rows: users } = await this.client.query<DjangoUserRow>(
        `select u."id"::text as "id", u."password", u."email", u."first_name", u."last_name", u."is_active", u."is_staff",
                u."is_superuser", u."date_joined", r."role"
         from "users_userprofile" u left join "users_userrole" r on r."id" = u."role_id"
         where u."id" > $1::bigint order by u."id" limit $2`,
        [after, batchSize],
      );
      if (users.length === 0) return;
      const ids = users.map((user) => user.id);
      const { rows: startupProfiles } = await this.client.query<DjangoStartupProfileRow>(
        `select s."id"::text as "id", s."user_id"::text as "user_id", s."company_name", s."description", s."website",
                i."name" as "industry", l."name" as "location"
         from "profiles_startupprofile" s
         left join "profiles_industry" i on i."id" = s."industry_id"
         left join "profiles_location" l on l."id" = s."location_id"
         where s."user_id" = any($1::bigint[]) order by s."id"`,
        [ids],
      );
      const { rows: investorProfiles } = await this.client.query<DjangoInvestorProfileRow>(
        `select "id"::text as "id", "user_id"::text as "user_id", "company_name", "website"
         from "profiles_investorprofile" where "user_id" = any($1::bigint[]) order by "id"`,
        [ids],
      );
      yield { users, startupProfiles, investorProfiles };
      after = users[users.length - 1]!.id;
      if (users.length < batchSize) return;
    }
  }
}
