import { type CopyBinary, MAPPING_COPY_COLUMNS, uuidBytes } from './copy-text.js';
import type { ReportEntry } from './import-report.js';
import { codePointLength, fingerprintOfJson, parseExtendedJsonTime, parseObjectId, unescapeHtml } from './normalise.js';

// What becomes of each line of messages.jsonl, decided without the database: this runs on the
// planner's worker thread (message-plan.worker.ts), which reads and plans the file while the
// main thread writes the batches it planned.

/** The original's serializer and consumer refused longer messages; what passed them was bleached. */
const ORIGINAL_APP_LIMIT = 1000;
/** `sendMessage`'s limit here; the column itself is unbounded. */
const MESSAGE_LIMIT = 4000;

export const MESSAGE_COPY_COLUMNS = ['id', 'conversation_id', 'sender_id', 'body', 'created_at'] as const;

/** A room the import brought over, as the planner needs it. */
export interface PlannerRoom {
  roomId: string;
  conversationId: string;
  investorSource: string;
  startupSource: string;
  investorId: string;
  startupId: string;
}

export interface PlannerInput {
  messagesFile: string;
  batchSize: number;
  rooms: PlannerRoom[];
  /** Rooms reported as not imported: their messages are counted, not planned. */
  skippedRoomIds: string[];
  /**
   * Set for a first import over COPY: every message is new, so the planner also gives it its id
   * and writes the binary COPY data of the messages and their mappings, under this mapping kind.
   */
  copyKind?: string;
}

/** A message to write, when the main thread still has to look its mapping up. */
export interface PlannedMessage {
  sourceId: string;
  conversationId: string;
  senderId: string;
  body: string;
  createdAt: number;
  fingerprint: string;
}

/** What the planner made of a batch of lines. */
export interface PlannedBatch {
  /** Documents read, for the progress bar. */
  documents: number;
  entries: ReportEntry[];
  /** Without `copyKind`. */
  rows: PlannedMessage[];
  /** With `copyKind`: how many messages (and mappings) the batch's COPY data holds. */
  copiedRows: number;
}

/** Where the planner writes a batch's COPY data (with `copyKind`). */
export interface CopyTexts {
  messages: CopyBinary;
  mappings: CopyBinary;
}

export interface PlanEnd {
  type: 'end';
  /**
   * Per room of the input, in its order, five numbers: the newest read and the oldest unread
   * message (ms) from the investor, the same from the startup, and the last message's time.
   */
  spans: Float64Array;
  skippedRoomMessages: Array<[roomId: string, messages: number]>;
  /** Messages of rooms that rooms.jsonl does not contain. */
  unknownRooms: Array<[roomId: string, messages: number]>;
}

export const SPAN_FIELDS = 5;

interface RoomSlot extends PlannerRoom {
  /** The ids' bytes, for binary COPY (with `copyKind`). */
  conversationBytes?: Buffer;
  investorBytes?: Buffer;
  startupBytes?: Buffer;
  investorNewestRead: number;
  investorOldestUnread: number;
  startupNewestRead: number;
  startupOldestUnread: number;
  lastMessageAt: number;
}

interface MessageDocument {
  _id?: unknown;
  room?: unknown;
  sender_id?: unknown;
  text?: unknown;
  timestamp?: unknown;
  is_read?: unknown;
}

export class MessagePlanner {
  private readonly rooms = new Map<string, RoomSlot>();
  private readonly skipped = new Map<string, number>();
  private readonly unknown = new Map<string, number>();
  private entries: ReportEntry[] = [];
  private rows: PlannedMessage[] = [];
  private documents = 0;
  private texts: CopyTexts | undefined;
  private batchNow = 0;

  constructor(private readonly input: PlannerInput) {
    for (const room of input.rooms) {
      this.rooms.set(room.roomId, {
        ...room,
        investorNewestRead: -Infinity,
        investorOldestUnread: Infinity,
        startupNewestRead: -Infinity,
        startupOldestUnread: Infinity,
        lastMessageAt: -Infinity,
        ...(input.copyKind
          ? { conversationBytes: uuidBytes(room.conversationId), investorBytes: uuidBytes(room.investorId), startupBytes: uuidBytes(room.startupId) }
          : {}),
      });
    }
    for (const roomId of input.skippedRoomIds) this.skipped.set(roomId, 0);
  }

  /** Starts a batch; with `copyKind`, its COPY data goes into `texts`, from their start. */
  startBatch(texts?: CopyTexts): void {
    this.documents = 0;
    this.entries = [];
    this.rows = [];
    this.texts = texts;
    texts?.messages.reset();
    texts?.mappings.reset();
    this.batchNow = Date.now();
  }

  /** Plans one document of messages.jsonl (`line` is its line number, for the report). */
  plan(line: number, text: string): void {
    this.documents += 1;
    let message: MessageDocument | null | undefined;
    try {
      message = JSON.parse(text) as MessageDocument | null;
    } catch {
      message = undefined;
    }
    const messageId = parseObjectId(message?._id);
    const roomId = parseObjectId(message?.room);
    const at = parseExtendedJsonTime(message?.timestamp);
    if (
      !messageId ||
      !roomId ||
      at === null ||
      typeof message?.text !== 'string' ||
      (typeof message.sender_id !== 'string' && typeof message.sender_id !== 'number')
    ) {
      this.entries.push({
        kind: 'message',
        sourceId: messageId ?? `line:${line}`,
        severity: 'warning',
        code: 'unreadable_message',
        action: 'skipped',
        message: `messages.jsonl line ${line} lacks an ObjectId, a room, a sender_id, a text or a timestamp.`,
      });
      return;
    }
    const room = this.rooms.get(roomId);
    if (!room) {
      const skipped = this.skipped.get(roomId);
      if (skipped !== undefined) this.skipped.set(roomId, skipped + 1);
      else this.unknown.set(roomId, (this.unknown.get(roomId) ?? 0) + 1);
      return;
    }
    // Senders are resolved by sender_id against the original's users, through the room's pair.
    const senderSource = String(message.sender_id);
    const fromInvestor = senderSource === room.investorSource;
    if (!fromInvestor && senderSource !== room.startupSource) {
      this.entries.push({
        kind: 'message',
        sourceId: messageId,
        severity: 'warning',
        code: 'sender_not_in_room',
        action: 'skipped',
        message: `Sender ${senderSource} is neither the investor (${room.investorSource}) nor the startup (${room.startupSource}) of its room; not imported.`,
      });
      return;
    }
    const body = this.messageBody(message.text, messageId);
    if (message.is_read === true) {
      if (fromInvestor) room.investorNewestRead = Math.max(room.investorNewestRead, at);
      else room.startupNewestRead = Math.max(room.startupNewestRead, at);
    } else if (fromInvestor) room.investorOldestUnread = Math.min(room.investorOldestUnread, at);
    else room.startupOldestUnread = Math.min(room.startupOldestUnread, at);
    room.lastMessageAt = Math.max(room.lastMessageAt, at);
    const senderId = fromInvestor ? room.investorId : room.startupId;
    // The text `JSON.stringify([conversationId, senderSource, body, at])` gives, without the array
    // (so earlier runs' fingerprints still match): an id and a sender (digits, from the room's
    // name) need no escaping.
    const print = fingerprintOfJson(`["${room.conversationId}","${senderSource}",${JSON.stringify(body)},${at}]`);
    if (this.texts) {
      const { messages, mappings } = this.texts;
      messages.row(MESSAGE_COPY_COLUMNS.length);
      const id = messages.newUuid();
      messages.uuid(room.conversationBytes!);
      messages.uuid(fromInvestor ? room.investorBytes! : room.startupBytes!);
      messages.text(body);
      messages.timestamp(at);
      mappings.row(MAPPING_COPY_COLUMNS.length);
      mappings.text(this.input.copyKind!);
      mappings.text(messageId);
      mappings.uuid(messages.bytesAt(id, 16));
      mappings.text(print);
      mappings.timestamp(this.batchNow);
      mappings.timestamp(this.batchNow);
    } else {
      this.rows.push({ sourceId: messageId, conversationId: room.conversationId, senderId, body, createdAt: at, fingerprint: print });
    }
  }

  /** What the batch started last holds. */
  takeBatch(): PlannedBatch {
    return { documents: this.documents, entries: this.entries, rows: this.rows, copiedRows: this.texts?.messages.rows ?? 0 };
  }

  end(): PlanEnd {
    const spans = new Float64Array(this.input.rooms.length * SPAN_FIELDS);
    this.input.rooms.forEach((input, i) => {
      const room = this.rooms.get(input.roomId)!;
      spans.set([room.investorNewestRead, room.investorOldestUnread, room.startupNewestRead, room.startupOldestUnread, room.lastMessageAt], i * SPAN_FIELDS);
    });
    return { type: 'end', spans, skippedRoomMessages: [...this.skipped], unknownRooms: [...this.unknown] };
  }

  /**
   * What the person typed. Messages that went through the original app (at most 1000 characters,
   * its limit) were HTML-escaped by bleach and are unescaped once; longer ones were written to
   * MongoDB directly, unescaped, and stay as they are. Stored in full, even beyond sendMessage's
   * 4000: the column is unbounded, and history is not cut.
   */
  private messageBody(text: string, messageId: string): string {
    // Code points never outnumber UTF-16 units: most messages need no counting.
    const length = text.length <= ORIGINAL_APP_LIMIT ? text.length : codePointLength(text);
    let body = length <= ORIGINAL_APP_LIMIT ? unescapeHtml(text) : text;
    if (body.includes('\u0000')) {
      body = body.replaceAll('\u0000', '');
      this.entries.push({
        kind: 'message',
        sourceId: messageId,
        severity: 'warning',
        code: 'nul_removed',
        action: 'imported',
        message: 'The text contained NUL characters, which PostgreSQL cannot store; they were removed.',
      });
    }
    if (length > MESSAGE_LIMIT) {
      this.entries.push({
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
}
