import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';

export interface OutgoingMail {
  id: string;
  kind: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string> | null;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  /** Resolves when the transport can take mail now (an SMTP connection and greeting); the outbox probes with it. */
  verify(): Promise<void>;
  close(): void;
}

export interface MailTransportOptions {
  smtpUrl?: string;
  from: string;
  mailDir: string;
  appUrl: string;
  /** File mode logs the links it writes, so a developer can click them; never in production. */
  logLinks: boolean;
  logger: Logger;
}

/** SMTP when SMTP_URL is set; otherwise .eml files a developer can open. */
export function createMailTransport(options: MailTransportOptions): MailTransport {
  return options.smtpUrl ? smtpTransport(options) : fileTransport(options);
}

function smtpTransport({ smtpUrl, from }: MailTransportOptions): MailTransport {
  const transporter = nodemailer.createTransport(smtpUrl, { from });
  return {
    async send(mail) {
      await transporter.sendMail({
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers ?? {},
        messageId: `<${mail.id}@forum-api>`,
      });
    },
    async verify() {
      await transporter.verify();
    },
    close: () => transporter.close(),
  };
}

function fileTransport({ from, mailDir, appUrl, logLinks, logger }: MailTransportOptions): MailTransport {
  if (logLinks) {
    // A convenience for development that would be a leak anywhere else: say so where it is seen.
    logger.warn(
      { mailDir },
      'SMTP_URL is not set: emails are written to files and their links are LOGGED WITH THEIR TOKENS (activation, password reset). Development only; set SMTP_URL anywhere else (in production links are never logged).',
    );
  }
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await transporter.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, headers: mail.headers ?? {} });
      await mkdir(mailDir, { recursive: true });
      const file = join(mailDir, mailFileName(new Date(), mail));
      await writeFile(file, info.message as Buffer);
      const links = logLinks ? (mail.text.match(new RegExp(`${escapeRegExp(appUrl)}/\\S+`, 'g')) ?? []) : [];
      logger.info({ file, kind: mail.kind, links }, 'email written to file (SMTP_URL is not set)');
    },
    verify: async () => {},
    close: () => transporter.close(),
  };
}

/**
 * `<time>-<kind>-<recipient>-<id>.eml`: sorted by time, and a glob such as
 * `*-activation-alice@example.com-*.eml` picks one person's mail when several people test at once.
 */
export function mailFileName(at: Date, mail: Pick<OutgoingMail, 'id' | 'kind' | 'to'>): string {
  const recipient = mail.to
    .toLowerCase()
    .replace(/[^a-z0-9@._+-]/g, '_')
    .slice(0, 100);
  return `${at.toISOString().replace(/[:.]/g, '-')}-${mail.kind}-${recipient}-${mail.id}.eml`;
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
