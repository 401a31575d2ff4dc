import { join } from 'node:path';
import { deferMessageIndexes, restoreDeferredIndexes } from './deferred-indexes.js';
import type { ImportReport, ReportEntry } from './import-report.js';
import type { UserDirectory } from './import-users.js';
import { countLines, jsonlBatches } from './mongo-export.js';
import { codePointLength, fingerprint, parseExtendedJsonDate, parseObjectId, unescapeHtml } from './normalise.js';
import type { Progress } from './progress.js';
import { columns, timeOrderedUuid, type ImportTarget } from './target.js';

const ROOM_KIND = 'mongo.room';
const MESSAGE_KIND = 'mongo.message';

/** The original's serializer and consumer refused longer messages; what passed them was bleached. */
const ORIGINAL_APP_LIMIT = 1000;
/** `sendMessage`'s limit here; the column itself is unbounded. */
const MESSAGE_LIMIT = 4000;

/** `is_read` belongs to the recipient; per sender, the newest read and the oldest unread message. */
interface ReadSpan {
  newestRead: number;
  oldestUnread: number;
}

interface RoomState {
  roomId: string;
  conversationId: string;
  investorSource: string;
  startupSource: string;
  investorId: string;
  startupId: string;
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
  done = 0;
  const unknownRooms = new Map<string, number>();
  // Into an empty table, indexes and foreign keys are built once at the end; if this run stops
  // before, the next one builds them first.
  await deferMessageIndexes(target);
  for await (const batch of jsonlBatches(messagesFile, batchSize)) {
    await importMessageBatch(batch, ctx, unknownRooms);
    done += batch.length;
    progress.update(done);
  }
  await target.settle();
  await restoreDeferredIndexes(target);
  progress.finish();
  for (const entry of ctx.skippedRooms.values()) {
    const { messages } = entry.details as { messages: number };
    entry.message += ` ${messages} message(s) of the room were not imported.`;
  }
  for (const [roomId, count] of unknownRooms) {
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

  const states = [...ctx.rooms.values()];
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
      ctx.skippedRooms.set(
        roomId,
        report.add({
          kind: 'conversation',
          sourceId: roomId,
          severity: 'warning',
          code: 'participant_missing',
          action: 'skipped',
          message: `Room "${name}": ${who.join('; ')}. The room was not imported.`,
          details: { name, messages: 0, missing },
        }),
      );
      continue;
    }
    const investor = ctx.users.imported.get(investorSource)!;
    const startup = ctx.users.imported.get(startupSource)!;
    if (investor.role !== 'INVESTOR' || startup.role !== 'STARTUP') {
      ctx.skippedRooms.set(
        roomId,
        report.add({
          kind: 'conversation',
          sourceId: roomId,
          severity: 'warning',
          code: 'participant_roles',
          action: 'skipped',
          message: `Room "${name}" must join an investor and a startup; here they are ${investor.role} and ${startup.role}. Not imported.`,
          details: { name, messages: 0 },
        }),
      );
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

interface MessageRow {
  sourceId: string;
  id: string;
  conversationId: string;
  senderId: string;
  body: string;
  createdAt: Date;
  fingerprint: string;
}

async function importMessageBatch(batch: Array<{ line: number; doc: unknown }>, ctx: ChatContext, unknownRooms: Map<string, number>): Promise<void> {
  const { report, target } = ctx;
  const rows: MessageRow[] = [];
  for (const { line, doc } of batch) {
    const message = doc as { _id?: unknown; room?: unknown; sender_id?: unknown; text?: unknown; timestamp?: unknown; is_read?: unknown } | undefined;
    const messageId = parseObjectId(message?._id);
    const roomId = parseObjectId(message?.room);
    const sentAt = parseExtendedJsonDate(message?.timestamp);
    if (
      !messageId ||
      !roomId ||
      !sentAt ||
      typeof message?.text !== 'string' ||
      (typeof message.sender_id !== 'string' && typeof message.sender_id !== 'number')
    ) {
      report.add({
        kind: 'message',
        sourceId: messageId ?? `line:${line}`,
        severity: 'warning',
        code: 'unreadable_message',
        action: 'skipped',
        message: `messages.jsonl line ${line} lacks an ObjectId, a room, a sender_id, a text or a timestamp.`,
      });
      continue;
    }
    const room = ctx.rooms.get(roomId);
    if (!room) {
      const skipped = ctx.skippedRooms.get(roomId);
      if (skipped) {
        (skipped.details as { messages: number }).messages += 1;
        report.count('message', 'skipped');
      } else {
        unknownRooms.set(roomId, (unknownRooms.get(roomId) ?? 0) + 1);
      }
      continue;
    }
    // Senders are resolved by sender_id against the original's users, through the room's pair.
    const senderSource = String(message.sender_id);
    const fromInvestor = senderSource === room.investorSource;
    if (!fromInvestor && senderSource !== room.startupSource) {
      report.add({
        kind: 'message',
        sourceId: messageId,
        severity: 'warning',
        code: 'sender_not_in_room',
        action: 'skipped',
        message: `Sender ${senderSource} is neither the investor (${room.investorSource}) nor the startup (${room.startupSource}) of its room; not imported.`,
      });
      continue;
    }
    const body = messageBody(message.text, messageId, report);
    const at = sentAt.getTime();
    const span = fromInvestor ? room.fromInvestor : room.fromStartup;
    if (message.is_read === true) span.newestRead = Math.max(span.newestRead, at);
    else span.oldestUnread = Math.min(span.oldestUnread, at);
    room.lastMessageAt = Math.max(room.lastMessageAt, at);
    rows.push({
      sourceId: messageId,
      id: '',
      conversationId: room.conversationId,
      senderId: fromInvestor ? room.investorId : room.startupId,
      body,
      createdAt: sentAt,
      fingerprint: fingerprint([room.conversationId, senderSource, body, at]),
    });
  }

  const mapped = await target.mappings(
    MESSAGE_KIND,
    rows.map((r) => r.sourceId),
  );
  const added: MessageRow[] = [];
  const changed: MessageRow[] = [];
  for (const row of rows) {
    const previous = mapped.get(row.sourceId);
    report.count('message', !previous ? 'imported' : previous.fingerprint !== row.fingerprint ? 'updated' : 'unchanged');
    row.id = previous?.targetId ?? timeOrderedUuid();
    if (!previous && target.canCopy) added.push(row);
    else if (!previous || previous.fingerprint !== row.fingerprint) changed.push(row);
  }
  await target.batch(
    async () => {
      // New messages have new ids and no mapping yet: nothing to conflict with.
      await target.copy(
        'message',
        ['id', 'conversation_id', 'sender_id', 'body', 'created_at'],
        added.map((r) => [r.id, r.conversationId, r.senderId, r.body, r.createdAt]),
      );
      await target.copyNewMappings(
        MESSAGE_KIND,
        added.map((r) => ({ sourceId: r.sourceId, targetId: r.id, fingerprint: r.fingerprint })),
      );
      if (changed.length === 0) return;
      await target.query(
        `insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at")
       select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[])
       on conflict ("id") do update set "conversation_id" = excluded."conversation_id", "sender_id" = excluded."sender_id",
         "body" = excluded."body", "created_at" = excluded."created_at"`,
        columns(changed, {
          id: (r) => r.id,
          conversation: (r) => r.conversationId,
          sender: (r) => r.senderId,
          body: (r) => r.body,
          created: (r) => r.createdAt,
        }),
      );
      await target.saveMappings(
        MESSAGE_KIND,
        changed.map((r) => ({ sourceId: r.sourceId, targetId: r.id, fingerprint: r.fingerprint })),
      );
    },
    { parallel: true },
  );
}

/**
 * What the person typed. Messages that went through the original app (at most 1000 characters,
 * its limit) were HTML-escaped by bleach and are unescaped once; longer ones were written to
 * MongoDB directly, unescaped, and stay as they are. Stored in full, even beyond sendMessage's
 * 4000: the column is unbounded, and history is not cut.
 */
function messageBody(text: string, messageId: string, report: ImportReport): string {
  // Code points never outnumber UTF-16 units: most messages need no counting.
  const length = text.length <= ORIGINAL_APP_LIMIT ? text.length : codePointLength(text);
  let body = length <= ORIGINAL_APP_LIMIT ? unescapeHtml(text) : text;
  if (body.includes('\u0000')) {
    body = body.replaceAll('\u0000', '');
    report.add({
      kind: 'message',
      sourceId: messageId,
      severity: 'warning',
      code: 'nul_removed',
      action: 'imported',
      message: 'The text contained NUL characters, which PostgreSQL cannot store; they were removed.',
    });
  }
  if (length > MESSAGE_LIMIT) {
    report.add({
      kind: 'message',
      sourceId: messageId,
      severity: 'warning',
      code: 'over_length_limit',
      action: 'imported',
      message: `The message has ${length} characters, over the ${MESSAGE_LIMIT} that sendMessage accepts; it was imported in full (it cannot be edited without shortening it).`,
      details: { length },
    });
  }
  return body;
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
