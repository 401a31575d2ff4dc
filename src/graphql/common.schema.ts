import { builder } from './builder.js';

export interface MessagePayloadShape {
  ok: boolean;
  message: string;
}

export const MessagePayload = builder.objectRef<MessagePayloadShape>('MessagePayload').implement({
  description: 'The answer of a mutation that only reports an outcome.',
  fields: (t) => ({ ok: t.exposeBoolean('ok'), message: t.exposeString('message') }),
});

export const okMessage = (message: string): MessagePayloadShape => ({ ok: true, message });
