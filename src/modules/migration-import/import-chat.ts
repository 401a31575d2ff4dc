import { join } from 'node:path';
import { deferMessageIndexes, restoreDeferredIndexes } from './deferred-indexes.js';
import type { ImportReport, ReportEntry } from './import-report.js';
import type { UserDirectory } from './import-users.js';
import { MAPPING_COPY_COLUMNS, timeOrderedUuid } from './copy-text.js';
import { MESSAGE_COPY_COLUMNS, type PlannedMessage, type PlannerRoom, SPAN_FIELDS } from './message-plan.js';
import { planMessagesOnThread } from './message-plan-thread.js';
import { countLines, jsonlBatches } from './mongo-export.js';
import { fingerprint, parseExtendedJsonDate, parseObjectId } from './normalise.js';
import type { Progress } from './progress.js';
import { columns, type ImportTarget } from './target.js';

const ROOM_KIND = 'mongo.room';
const MESSAGE_KIND = 'mongo.message';

/** `is_read` belongs to the recipient; per sender, the newest read and the oldest unread message. */
interface ReadSpan {
  newestRead: number;
  oldestUnread: number;
}

interface RoomState extends PlannerRoom {
  lastMessageAt: number;
  fromInvestor: ReadSpan;
  fromStartup: ReadSpan;
}

interface ChatContext {
  target: ImportTarget;
  report: ImportReport;
  users: UserDirectory;
  rooms: Map<string, RoomState>;
  /** Rooms not imported, with the report entry that counts their messages. */
  skippedRooms: Map<string, ReportEntry>;
  conversationsByPair: Map<string, string>;
}

export async function importChat(
  chatDir: string,
  target: ImportTarget,
  report: ImportReport,
  progress: Progress,
  batchSize: number,
  users: UserDirectory,
): Promise<void> {
  const ctx: ChatContext = { target, report, users, rooms: new Map(), skippedRooms: new Map(), conversationsByPair: new Map() };
  const roomsFile = join(chatDir, 'rooms.jsonl');
  const messagesFile = join(chatDir, 'messages.jsonl');

  progress.start('rooms', await countLines(roomsFile), 'rooms');
  let done = 0;
  for await (const batch of jsonlBatches(roomsFile, batchSize)) {
    await importRoomBatch(batch, ctx);
    done += batch.length;
    progress.update(done);
  }
  // Messages need the conversation ids the room writes settled on.
  await target.settle();
  progress.finish();

  progress.start('messages', await countLines(messagesFile), 'messages');
  // Into an empty table, indexes and foreign keys are built once at the end; if this run stops
  // before, the next one builds them first.
  await deferMessageIndexes(target);
  const rooms = [...ctx.rooms.values()];
  // A first import over COPY leaves the planner's thread everything but the writing itself.
  const copyKind = target.canCopy && !target.dryRun && (await target.neverImported(MESSAGE_KIND)) ? MESSAGE_KIND : undefined;
  const planned = planMessagesOnThread({
    messagesFile,
    batchSize,
    rooms: rooms.map(({ roomId, conversationId, investorSource, startupSource, investorId, startupId }) => ({
      roomId,
      conversationId,
      investorSource,
      startupSource,
      investorId,
      startupId,
    })),
    skippedRoomIds: [...ctx.skippedRooms.keys()],
    ...(copyKind ? { copyKind } : {}),
  });
  done = 0;
  let step = await planned.next();
  for (; !step.done; step = await planned.next()) {
    const batch = step.value;
    for (const entry of batch.entries) report.add(entry);
    const { copy } = batch;
    if (copy) {
      report.count('message', 'imported', batch.copiedRows);
      await target.batch(
        async () => {
          try {
            await target.copyData('message', MESSAGE_COPY_COLUMNS, copy.messages, 'binary');
            await target.copyData('import_mapping', MAPPING_COPY_COLUMNS, copy.mappings, 'binary');
          } finally {
            batch.release();
          }
        },
        { parallel: true },
      );
    } else {
      await importMessageBatch(batch.rows, ctx);
    }
    done += batch.documents;
    progress.update(done);
  }
  const summary = step.value;
  await target.settle();
  await restoreDeferredIndexes(target);
  progress.finish();

  rooms.forEach((room, i) => {
    const [investorNewestRead, investorOldestUnread, startupNewestRead, startupOldestUnread, lastMessageAt] = summary.spans.subarray(
      i * SPAN_FIELDS,
      (i + 1) * SPAN_FIELDS,
    ) as unknown as [number, number, number, number, number];
    room.fromInvestor = { newestRead: investorNewestRead, oldestUnread: investorOldestUnread };
    room.fromStartup = { newestRead: startupNewestRead, oldestUnread: startupOldestUnread };
    room.lastMessageAt = Math.max(room.lastMessageAt, lastMessageAt);
  });
  for (const [roomId, messages] of summary.skippedRoomMessages) {
    const entry = ctx.skippedRooms.get(roomId)!;
    (entry.details as { messages: number }).messages += messages;
    report.count('message', 'skipped', messages);
  }
  for (const entry of ctx.skippedRooms.values()) {
    const { messages } = entry.details as { messages: number };
    entry.message += ` ${messages} message(s) of the room were not imported.`;
  }
  for (const [roomId, count] of summary.unknownRooms) {
    report.add({
      kind: 'message',
      sourceId: `room:${roomId}`,
      severity: 'warning',
      code: 'room_not_in_export',
      action: 'skipped',
      message: `${count} message(s) belong to room ${roomId}, which rooms.jsonl does not contain; they were not imported.`,
      details: { messages: count },
    });
    report.count('message', 'skipped', count - 1); // add() counted one
  }

  const states = rooms;
  progress.start('read state', states.length, 'conversations');
  for (let i = 0; i < states.length; i += batchSize) {
    await importReadState(states.slice(i, i + batchSize), ctx);
    progress.update(Math.min(states.length, i + batchSize));
  }
  await target.settle();
  progress.finish();
}

async function importRoomBatch(batch: Array<{ line: number; doc: unknown }>, ctx: ChatContext): Promise<void> {
  const { report, target } = ctx;
  const planned: Array<{ state: RoomState; createdAt: Date; fingerprint: string }> = [];
  for (const { line, doc } of batch) {
    const room = doc as { _id?: unknown; name?: unknown; participants?: unknown; created_at?: unknown } | undefined;
    const roomId = parseObjectId(room?._id);
    const createdAt = parseExtendedJsonDate(room?.created_at);
    const name = typeof room?.name === 'string' ? room.name : '';
    const pair = /^(\d+)_(\d+)$/.exec(name);
    if (!roomId || !createdAt || !pair) {
      const entry = report.add({
        kind: 'conversation',
        sourceId: roomId ?? `line:${line}`,
        severity: 'warning',
        code: 'unreadable_room',
        action: 'skipped',
        message: `rooms.jsonl line ${line} is not a room with an ObjectId, a "{investorId}_{startupId}" name and a created_at date.`,
        details: { messages: 0 },
      });
      if (roomId) ctx.skippedRooms.set(roomId, entry);
      continue;
    }
    // The room's messages are counted into its entry as the message phase meets them.
    const skipRoom = (code: string, message: string, details: Record<string, unknown> = {}) => {
      ctx.skippedRooms.set(
        roomId,
        report.add({
          kind: 'conversation',
          sourceId: roomId,
          severity: 'warning',
          code,
          action: 'skipped',
          message,
          details: { name, messages: 0, ...details },
        }),
      );
    };
    // Membership comes from the name (investor first), not from `participants`: staff removed
    // entries from that list while the people's messages stayed.
    const [, investorSource, startupSource] = pair as unknown as [string, string, string];
    const snapshot = Array.isArray(room!.participants) ? (room!.participants as Array<Record<string, unknown>>) : [];
    const missing = [investorSource, startupSource].filter((id) => !ctx.users.imported.has(id));
    if (missing.length > 0) {
      const who = missing.map((id) => {
        const person = snapshot.find((p) => String(p.id) === id);
        const label = person ? `${String(person.first_name ?? '')} ${String(person.last_name ?? '')}`.trim() : '';
        const reason = ctx.users.notImported.get(id);
        return `user ${id}${label ? ` (${label})` : ''} ${reason ? `was not imported (${reason})` : 'does not exist in the Django database (deleted)'}`;
      });
      skipRoom('participant_missing', `Room "${name}": ${who.join('; ')}. The room was not imported.`, { missing });
      continue;
    }
    const investor = ctx.users.imported.get(investorSource)!;
    const startup = ctx.users.imported.get(startupSource)!;
    if (investor.role !== 'INVESTOR' || startup.role !== 'STARTUP') {
      skipRoom('participant_roles', `Room "${name}" must join an investor and a startup; here they are ${investor.role} and ${startup.role}. Not imported.`);
      continue;
    }
    const empty = (): ReadSpan => ({ newestRead: -Infinity, oldestUnread: Infinity });
    planned.push({
      state: {
        roomId,
        conversationId: '',
        investorSource,
        startupSource,
        investorId: investor.id,
        startupId: startup.id,
        lastMessageAt: createdAt.getTime(),
        fromInvestor: empty(),
        fromStartup: empty(),
      },
      createdAt,
      fingerprint: fingerprint([investor.id, startup.id, createdAt.toISOString()]),
    });
  }

  const mapped = await target.mappings(
    ROOM_KIND,
    planned.map((p) => p.state.roomId),
  );
  const writes: typeof planned = [];
  for (const plan of planned) {
    const previous = mapped.get(plan.state.roomId);
    const pairKey = `${plan.state.investorId}:${plan.state.startupId}`;
    const samePair = ctx.conversationsByPair.get(pairKey);
    report.count('conversation', !previous ? 'imported' : previous.fingerprint !== plan.fingerprint ? 'updated' : 'unchanged');
    plan.state.conversationId = previous?.targetId ?? samePair ?? timeOrderedUuid();
    ctx.conversationsByPair.set(pairKey, plan.state.conversationId);
    ctx.rooms.set(plan.state.roomId, plan.state);
    if (!previous || previous.fingerprint !== plan.fingerprint) writes.push(plan);
  }

  await target.batch(async () => {
    if (writes.length === 0) return;
    // A pair already talking here keeps its conversation; the imported history joins it.
    const { rows } = await target.query<{ id: string; investor_id: string; startup_id: string }>(
      `insert into "conversation" ("id", "investor_id", "startup_id", "created_at", "last_activity_at")
       select id, investor_id, startup_id, created_at, created_at from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) as v(id, investor_id, startup_id, created_at)
       on conflict ("investor_id", "startup_id") do update set "created_at" = least("conversation"."created_at", excluded."created_at")
       returning "id", "investor_id", "startup_id"`,
      columns(
        dedupe(writes, (w) => w.state.conversationId),
        {
          id: (w) => w.state.conversationId,
          investor: (w) => w.state.investorId,
          startup: (w) => w.state.startupId,
          created: (w) => w.createdAt,
        },
      ),
    );
    const byPair = new Map(rows.map((row) => [`${row.investor_id}:${row.startup_id}`, row.id]));
    for (const plan of writes) {
      plan.state.conversationId = byPair.get(`${plan.state.investorId}:${plan.state.startupId}`)!;
      ctx.conversationsByPair.set(`${plan.state.investorId}:${plan.state.startupId}`, plan.state.conversationId);
    }
    await target.saveMappings(
      ROOM_KIND,
      writes.map((w) => ({ sourceId: w.state.roomId, targetId: w.state.conversationId, fingerprint: w.fingerprint })),
    );
  });
}

/**
 * Writes planned messages whose mappings must be looked up first: a re-run (updates what changed,
 * adds what is new), a dry run, or the embedded database, which takes no COPY.
 */
async function importMessageBatch(rows: PlannedMessage[], ctx: ChatContext): Promise<void> {
  const { report, target } = ctx;
  const mapped = await target.mappings(
    MESSAGE_KIND,
    rows.map((r) => r.sourceId),
  );
  const added: Array<{ row: PlannedMessage; id: string }> = [];
  const changed: Array<{ row: PlannedMessage; id: string }> = [];
  for (const row of rows) {
    const previous = mapped.get(row.sourceId);
    report.count('message', !previous ? 'imported' : previous.fingerprint !== row.fingerprint ? 'updated' : 'unchanged');
    const id = previous?.targetId ?? timeOrderedUuid();
    if (!previous && target.canCopy) added.push({ row, id });
    else if (!previous || previous.fingerprint !== row.fingerprint) changed.push({ row, id });
  }
  await target.batch(
    async () => {
      // New messages have new ids and no mapping yet: nothing to conflict with.
      await target.copy(
        'message',
        MESSAGE_COPY_COLUMNS,
        added.map(({ row, id }) => [id, row.conversationId, row.senderId, row.body, new Date(row.createdAt)]),
      );
      await target.copyNewMappings(
        MESSAGE_KIND,
        added.map(({ row, id }) => ({ sourceId: row.sourceId, targetId: id, fingerprint: row.fingerprint })),
      );
      if (changed.length === 0) return;
      await target.query(
        `insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at")
       select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[])
       on conflict ("id") do update set "conversation_id" = excluded."conversation_id", "sender_id" = excluded."sender_id",
         "body" = excluded."body", "created_at" = excluded."created_at"`,
        columns(changed, {
          id: (c) => c.id,
          conversation: (c) => c.row.conversationId,
          sender: (c) => c.row.senderId,
          body: (c) => c.row.body,
          created: (c) => new Date(c.row.createdAt),
        }),
      );
      await target.saveMappings(
        MESSAGE_KIND,
        changed.map(({ row, id }) => ({ sourceId: row.sourceId, targetId: id, fingerprint: row.fingerprint })),
      );
    },
    { parallel: true },
  );
}

/**
 * Read marks from `is_read`: each participant has read up to the newest read message of the
 * other. An unread message older than a read one cannot be represented by a mark and counts as read.
 */
async function importReadState(states: RoomState[], ctx: ChatContext): Promise<void> {
  const { report, target } = ctx;
  const marks: Array<{ userId: string; conversationId: string; at: Date }> = [];
  for (const state of states) {
    for (const [reader, span, sender] of [
      [state.investorId, state.fromStartup, state.startupSource],
      [state.startupId, state.fromInvestor, state.investorSource],
    ] as const) {
      if (span.newestRead === -Infinity) continue;
      marks.push({ userId: reader, conversationId: state.conversationId, at: new Date(span.newestRead) });
      if (span.oldestUnread < span.newestRead) {
        report.add({
          kind: 'readMark',
          sourceId: state.roomId,
          severity: 'note',
          code: 'unread_before_read',
          action: 'imported',
          message: `In room ${state.roomId}, a message of user ${sender} marked unread is older than one marked read; both count as read.`,
        });
      }
    }
  }
  const conversationIds = states.map((s) => s.conversationId);
  const { rows: existing } = await target.query<{ user_id: string; conversation_id: string; last_read_at: Date }>(
    `select "user_id", "conversation_id", "last_read_at" from "conversation_read" where "conversation_id" = any($1::uuid[])`,
    [conversationIds],
  );
  const previous = new Map(existing.map((row) => [`${row.user_id}:${row.conversation_id}`, row.last_read_at.getTime()]));
  // A mark only moves forward: reading done here after an earlier run is kept.
  const moved = marks.filter((mark) => {
    const before = previous.get(`${mark.userId}:${mark.conversationId}`);
    report.count('readMark', before === undefined ? 'imported' : before < mark.at.getTime() ? 'updated' : 'unchanged');
    return before === undefined || before < mark.at.getTime();
  });
  await target.batch(async () => {
    await target.query(
      `update "conversation" c set "last_activity_at" = greatest(c."last_activity_at", v.last_at)
       from unnest($1::uuid[], $2::timestamptz[]) as v(id, last_at) where c."id" = v.id and c."last_activity_at" < v.last_at`,
      columns(states, { id: (s) => s.conversationId, last: (s) => new Date(s.lastMessageAt) }),
    );
    if (moved.length === 0) return;
    await target.query(
      `insert into "conversation_read" ("user_id", "conversation_id", "last_read_at")
       select * from unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
       on conflict ("user_id", "conversation_id") do update set "last_read_at" = greatest("conversation_read"."last_read_at", excluded."last_read_at")`,
      columns(moved, { user: (m) => m.userId, conversation: (m) => m.conversationId, at: (m) => m.at }),
    );
  });
}

function dedupe<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
