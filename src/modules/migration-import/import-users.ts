import type { Role } from '../user/user.entity.js';
import type { DjangoInvestorProfileRow, DjangoSource, DjangoStartupProfileRow, DjangoUserRow } from './django-source.js';
import type { ImportReport, Kind } from './import-report.js';
import { fingerprint, normaliseEmail, normaliseWebsite, optionalText } from './normalise.js';
import type { Progress } from './progress.js';
import { timeOrderedUuid } from './copy-text.js';
import { columns, type ImportTarget, type MappingRow } from './target.js';

export const USER_KIND = 'django.user';
const STARTUP_PROFILE_KIND = 'django.startup_profile';
const INVESTOR_PROFILE_KIND = 'django.investor_profile';

const NAME_MAX = 100;
/** Stored for an account that cannot sign in until it resets its password. */
const UNUSABLE_PASSWORD = '!';

export interface ImportedUser {
  id: string;
  role: Role;
}

/** Who became whom, and why the others did not come over; the chat import resolves people here. */
export interface UserDirectory {
  imported: Map<string, ImportedUser>;
  notImported: Map<string, string>;
}

export interface ReferenceIds {
  industries: Map<string, number | null>;
  locations: Map<string, number | null>;
}

interface UserPlan {
  source: DjangoUserRow;
  row: { email: string; passwordHash: string; role: Role; firstName: string | null; lastName: string | null; isActive: boolean; createdAt: Date };
  startup: DjangoStartupProfileRow | null;
  investor: DjangoInvestorProfileRow | null;
}

interface ProfileRow {
  sourceId: string;
  ownerId: string;
  companyName: string;
  website: string;
  description: string | null;
  industryId: number | null;
  locationId: number | null;
  createdAt: Date;
  fingerprint: string;
}

const ROLE_NAMES: Record<string, Role> = { investor: 'INVESTOR', startup: 'STARTUP' };

export async function importUsers(
  source: DjangoSource,
  target: ImportTarget,
  report: ImportReport,
  progress: Progress,
  batchSize: number,
  reference: ReferenceIds,
): Promise<UserDirectory> {
  const directory: UserDirectory = { imported: new Map(), notImported: new Map() };
  const collisionWinner = new Map<string, { id: string; email: string }>();
  for (const group of await source.emailCollisions()) {
    for (const id of group.ids.slice(1)) collisionWinner.set(id, { id: group.ids[0]!, email: group.emails[0]! });
  }
  progress.start('users', await source.countUsers(), 'users');
  let done = 0;
  for await (const batch of source.userBatches(batchSize)) {
    await importUserBatch(batch.users, batch.startupProfiles, batch.investorProfiles, { target, report, reference, directory, collisionWinner });
    done += batch.users.length;
    progress.update(done);
  }
  await target.settle();
  progress.finish();
  return directory;
}

interface BatchContext {
  target: ImportTarget;
  report: ImportReport;
  reference: ReferenceIds;
  directory: UserDirectory;
  collisionWinner: Map<string, { id: string; email: string }>;
}

async function importUserBatch(
  users: DjangoUserRow[],
  startupProfiles: DjangoStartupProfileRow[],
  investorProfiles: DjangoInvestorProfileRow[],
  ctx: BatchContext,
): Promise<void> {
  const { target, report, directory } = ctx;
  const startupsByUser = groupBy(startupProfiles, (p) => p.user_id);
  const investorsByUser = groupBy(investorProfiles, (p) => p.user_id);

  const plans: UserPlan[] = [];
  for (const user of users) {
    const plan = planUser(user, startupsByUser.get(user.id) ?? [], investorsByUser.get(user.id) ?? [], ctx);
    if (plan) plans.push(plan);
  }

  const userMappings = await target.mappings(
    USER_KIND,
    plans.map((p) => p.source.id),
  );
  // A new account whose address is already registered here is someone else's account.
  const newEmails = plans.filter((p) => !userMappings.has(p.source.id)).map((p) => p.row.email);
  const taken = new Set(
    newEmails.length === 0
      ? []
      : (await target.query<{ email: string }>(`select "email" from "user" where "email" = any($1::text[])`, [newEmails])).rows.map((r) => r.email),
  );

  const userWrites: Array<UserPlan & { id: string; fingerprint: string }> = [];
  const kept: Array<UserPlan & { id: string }> = [];
  for (const plan of plans) {
    const mapped = userMappings.get(plan.source.id);
    if (!mapped && taken.has(plan.row.email)) {
      skipUserWithProfiles(
        plan.source,
        plan.startup ? [plan.startup] : [],
        plan.investor ? [plan.investor] : [],
        ctx,
        'email_taken_in_target',
        `${plan.row.email} is already registered on this platform (someone signed up before the import); the account was not imported.`,
      );
      continue;
    }
    const print = fingerprint([
      plan.row.email,
      plan.row.passwordHash,
      plan.row.role,
      plan.row.firstName,
      plan.row.lastName,
      plan.row.isActive,
      plan.row.createdAt.toISOString(),
    ]);
    const id = mapped?.targetId ?? timeOrderedUuid();
    if (!mapped) report.count('user', 'imported');
    else if (mapped.fingerprint !== print) report.count('user', 'updated');
    else report.count('user', 'unchanged');
    if (!mapped || mapped.fingerprint !== print) userWrites.push({ ...plan, id, fingerprint: print });
    kept.push({ ...plan, id });
    directory.imported.set(plan.source.id, { id, role: plan.row.role });
  }

  const startupRows = kept.flatMap((p) => (p.startup ? [startupProfileRow(p.startup, p.id, p.source.date_joined, ctx)] : []));
  const investorRows = kept.flatMap((p) => (p.investor ? [investorProfileRow(p.investor, p.id, p.source.date_joined, ctx)] : []));
  const startupWrites = await changedProfiles(target, report, 'startupProfile', STARTUP_PROFILE_KIND, startupRows);
  const investorWrites = await changedProfiles(target, report, 'investorProfile', INVESTOR_PROFILE_KIND, investorRows);

  await target.batch(async () => {
    await writeUsers(target, userWrites);
    await target.saveMappings(
      USER_KIND,
      userWrites.map((u) => ({ sourceId: u.source.id, targetId: u.id, fingerprint: u.fingerprint })),
    );
    await target.saveMappings(STARTUP_PROFILE_KIND, await writeProfiles(target, 'startup_profile', startupWrites));
    await target.saveMappings(INVESTOR_PROFILE_KIND, await writeProfiles(target, 'investor_profile', investorWrites));
  });
}

/** Decides what an account becomes here, or reports why it cannot come over. */
function planUser(user: DjangoUserRow, startups: DjangoStartupProfileRow[], investors: DjangoInvestorProfileRow[], ctx: BatchContext): UserPlan | null {
  const { report } = ctx;
  const winner = ctx.collisionWinner.get(user.id);
  if (winner) {
    skipUserWithProfiles(
      user,
      startups,
      investors,
      ctx,
      'email_case_collision',
      `${user.email} differs only by case from ${winner.email} (user ${winner.id}, the older account, which is imported). Emails are case-insensitive here, so this account was not imported; give it its own address in the original and run the import again.`,
      { collidesWith: winner.id },
    );
    return null;
  }
  const email = normaliseEmail(user.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
    skipUserWithProfiles(user, startups, investors, ctx, 'invalid_email', `"${user.email}" is not a usable email address.`);
    return null;
  }

  let role: Role | undefined = user.role ? ROLE_NAMES[user.role.trim().toLowerCase()] : undefined;
  if (!role) {
    // The original let accounts exist without a role (createsuperuser, registration with role null).
    const derived: Role | null = startups.length > 0 && investors.length === 0 ? 'STARTUP' : investors.length > 0 && startups.length === 0 ? 'INVESTOR' : null;
    if (!derived) {
      const why = startups.length > 0 ? 'owns both startup and investor profiles' : 'owns no profile';
      const staff = user.is_superuser || user.is_staff ? ' It is a staff/superuser account of the Django admin, which this platform does not have.' : '';
      skipUserWithProfiles(
        user,
        startups,
        investors,
        ctx,
        'no_role',
        `User has no role${user.role ? ` (unknown role "${user.role}")` : ''} and ${why}, so it cannot be an investor or a startup here.${staff}`,
      );
      return null;
    }
    role = derived;
    report.add({
      kind: 'user',
      sourceId: user.id,
      severity: 'warning',
      code: 'role_derived',
      action: 'imported',
      message: `User has no role in the original; imported as ${derived} because it owns a ${derived === 'STARTUP' ? 'startup' : 'investor'} profile.`,
    });
  }

  // One profile per account here. The original allowed several startup profiles per user: the
  // oldest (lowest id) is the one created with the account and is kept.
  let startup: DjangoStartupProfileRow | null = null;
  let investor: DjangoInvestorProfileRow | null = null;
  if (role === 'STARTUP') {
    startup = startups[0] ?? null;
    for (const extra of startups.slice(1))
      skipProfile(
        'startupProfile',
        extra,
        ctx,
        'extra_startup_profile',
        `User ${user.id} owns several startup profiles; only one per account exists here, and the oldest (id ${startup!.id}, "${startup!.company_name}") is kept.`,
      );
    for (const other of investors)
      skipProfile('investorProfile', other, ctx, 'profile_role_mismatch', `User ${user.id} is a startup; its investor profile was not imported.`);
  } else {
    investor = investors[0] ?? null;
    for (const other of startups)
      skipProfile('startupProfile', other, ctx, 'profile_role_mismatch', `User ${user.id} is an investor; its startup profile was not imported.`);
  }
  if (!startup && !investor) {
    report.add({
      kind: 'user',
      sourceId: user.id,
      severity: 'warning',
      code: 'no_profile',
      action: 'imported',
      message: `User is a ${role} without a company profile; imported without one.`,
    });
  }

  let passwordHash = user.password;
  if (passwordHash.startsWith('!')) {
    report.add({
      kind: 'user',
      sourceId: user.id,
      severity: 'warning',
      code: 'unusable_password',
      action: 'imported',
      message: 'The account has no usable password in the original; imported so that it cannot sign in until it resets its password.',
    });
  } else if (!passwordHash.startsWith('pbkdf2_sha256$')) {
    passwordHash = UNUSABLE_PASSWORD;
    report.add({
      kind: 'user',
      sourceId: user.id,
      severity: 'warning',
      code: 'unsupported_password_hash',
      action: 'imported',
      message: `The password hash uses "${user.password.split('$')[0]}", which is not verified here; the account must reset its password.`,
    });
  }

  const firstName = nameField(user, 'first_name', ctx);
  const lastName = nameField(user, 'last_name', ctx);
  return { source: user, row: { email, passwordHash, role, firstName, lastName, isActive: user.is_active, createdAt: user.date_joined }, startup, investor };
}

function nameField(user: DjangoUserRow, field: 'first_name' | 'last_name', ctx: BatchContext): string | null {
  const value = optionalText(user[field]);
  if (value && value.length > NAME_MAX) {
    ctx.report.add({
      kind: 'user',
      sourceId: user.id,
      severity: 'warning',
      code: 'name_truncated',
      action: 'imported',
      message: `${field} is longer than ${NAME_MAX} characters and was cut to ${NAME_MAX}.`,
      details: { original: value },
    });
    return value.slice(0, NAME_MAX);
  }
  return value;
}

function skipUserWithProfiles(
  user: DjangoUserRow,
  startups: DjangoStartupProfileRow[],
  investors: DjangoInvestorProfileRow[],
  ctx: BatchContext,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  ctx.directory.notImported.set(user.id, code);
  ctx.report.add({
    kind: 'user',
    sourceId: user.id,
    severity: 'warning',
    code,
    action: 'skipped',
    message,
    details: { email: user.email, name: `${user.first_name} ${user.last_name}`.trim(), ...details },
  });
  for (const profile of startups) skipProfile('startupProfile', profile, ctx, 'owner_not_imported', `Its owner (user ${user.id}) was not imported.`);
  for (const profile of investors) skipProfile('investorProfile', profile, ctx, 'owner_not_imported', `Its owner (user ${user.id}) was not imported.`);
}

function skipProfile(kind: Kind, profile: DjangoStartupProfileRow | DjangoInvestorProfileRow, ctx: BatchContext, code: string, message: string): void {
  ctx.report.add({
    kind,
    sourceId: profile.id,
    severity: 'warning',
    code,
    action: 'skipped',
    message,
    details: { companyName: profile.company_name, website: profile.website },
  });
}

function websiteOf(kind: Kind, profile: { id: string; website: string }, ctx: BatchContext): string {
  const outcome = normaliseWebsite(profile.website);
  if (outcome.change === 'scheme_added') {
    ctx.report.add({
      kind,
      sourceId: profile.id,
      severity: 'note',
      code: 'website_scheme_added',
      action: 'imported',
      message: `Website "${profile.website}" has no scheme; imported as ${outcome.website}.`,
    });
  } else if (outcome.change === 'unusable') {
    ctx.report.add({
      kind,
      sourceId: profile.id,
      severity: 'warning',
      code: 'website_unusable',
      action: 'imported',
      message: `Website "${outcome.original}" is not an http(s) URL; imported without a website.`,
    });
  }
  return outcome.website;
}

function startupProfileRow(profile: DjangoStartupProfileRow, ownerId: string, createdAt: Date, ctx: BatchContext): ProfileRow {
  const website = websiteOf('startupProfile', profile, ctx);
  const description = optionalText(profile.description);
  // NULL stays NULL: a missing industry or location is not "the first one".
  const industryId = profile.industry === null ? null : (ctx.reference.industries.get(profile.industry) ?? null);
  const locationId = profile.location === null ? null : (ctx.reference.locations.get(profile.location) ?? null);
  return {
    sourceId: profile.id,
    ownerId,
    companyName: profile.company_name,
    website,
    description,
    industryId,
    locationId,
    createdAt,
    fingerprint: fingerprint([ownerId, profile.company_name, website, description, profile.industry, profile.location]),
  };
}

function investorProfileRow(profile: DjangoInvestorProfileRow, ownerId: string, createdAt: Date, ctx: BatchContext): ProfileRow {
  const website = websiteOf('investorProfile', profile, ctx);
  // A blank company name was allowed for investors (blank=True); it stays blank.
  return {
    sourceId: profile.id,
    ownerId,
    companyName: profile.company_name,
    website,
    description: null,
    industryId: null,
    locationId: null,
    createdAt,
    fingerprint: fingerprint([ownerId, profile.company_name, website]),
  };
}

async function changedProfiles(target: ImportTarget, report: ImportReport, kind: Kind, mappingKind: string, rows: ProfileRow[]): Promise<ProfileRow[]> {
  const mapped = await target.mappings(
    mappingKind,
    rows.map((r) => r.sourceId),
  );
  return rows.filter((row) => {
    const previous = mapped.get(row.sourceId);
    report.count(kind, !previous ? 'imported' : previous.fingerprint !== row.fingerprint ? 'updated' : 'unchanged');
    return !previous || previous.fingerprint !== row.fingerprint;
  });
}

async function writeUsers(target: ImportTarget, rows: Array<UserPlan & { id: string }>): Promise<void> {
  if (rows.length === 0) return;
  // A password set or reset here (argon2id) is never overwritten by the original's hash.
  await target.query(
    `insert into "user" ("id", "email", "password_hash", "role", "first_name", "last_name", "is_active", "created_at", "updated_at")
     select id, email, password_hash, role::"user_role", first_name, last_name, is_active, created_at, now()
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::timestamptz[])
       as v(id, email, password_hash, role, first_name, last_name, is_active, created_at)
     on conflict ("id") do update set
       "email" = excluded."email", "role" = excluded."role", "first_name" = excluded."first_name", "last_name" = excluded."last_name",
       "is_active" = excluded."is_active", "created_at" = excluded."created_at", "updated_at" = now(),
       "password_hash" = case when "user"."password_hash" like 'pbkdf2\\_sha256$%' or "user"."password_hash" like '!%'
                              then excluded."password_hash" else "user"."password_hash" end`,
    columns(rows, {
      id: (r) => r.id,
      email: (r) => r.row.email,
      password: (r) => r.row.passwordHash,
      role: (r) => r.row.role,
      first: (r) => r.row.firstName,
      last: (r) => r.row.lastName,
      active: (r) => r.row.isActive,
      created: (r) => r.row.createdAt,
    }),
  );
}

/** Upserts profiles by owner (one per account) and returns their mapping rows. */
async function writeProfiles(target: ImportTarget, table: 'startup_profile' | 'investor_profile', rows: ProfileRow[]): Promise<MappingRow[]> {
  if (rows.length === 0) return [];
  const startup = table === 'startup_profile';
  const { rows: written } = await target.query<{ id: string; owner_id: string }>(
    `insert into "${table}" ("id", "owner_id", "company_name", "website", "description", ${startup ? '"industry_id", ' : ''}"location_id", "created_at", "updated_at")
     select id, owner_id, company_name, website, description, ${startup ? 'industry_id, ' : ''}location_id, created_at, now()
     from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::timestamptz[])
       as v(id, owner_id, company_name, website, description, industry_id, location_id, created_at)
     on conflict ("owner_id") do update set
       "company_name" = excluded."company_name", "website" = excluded."website", "description" = excluded."description",
       ${startup ? '"industry_id" = excluded."industry_id", ' : ''}"location_id" = excluded."location_id", "updated_at" = now()
     returning "id", "owner_id"`,
    columns(rows, {
      id: () => timeOrderedUuid(),
      owner: (r) => r.ownerId,
      name: (r) => r.companyName,
      website: (r) => r.website,
      description: (r) => r.description,
      industry: (r) => r.industryId,
      location: (r) => r.locationId,
      created: (r) => r.createdAt,
    }),
  );
  const idByOwner = new Map(written.map((row) => [row.owner_id, row.id]));
  return rows.map((row) => ({ sourceId: row.sourceId, targetId: idByOwner.get(row.ownerId)!, fingerprint: row.fingerprint }));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
