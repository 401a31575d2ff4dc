import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Hands the kernel what one turn of the event loop sends on a socket in one write. A chat
 * message reaches a sender as the mutation's `next` and `complete` and often its own
 * subscription's `next`, each a separate `send`; every write to a local TCP socket costs a
 * system call that also does the receiving side's work, and those writes were a quarter of the
 * server's CPU per delivered message (`npm run bench -- --only W5 --cpu-prof`). The socket is
 * corked at the first send of a turn and uncorked once the turn's callbacks have run
 * (`setImmediate`), so a frame waits at most for the work already under way.
 */
export function coalesceWrites(ws: WebSocket, socket: Duplex): void {
  const send = ws.send as (this: WebSocket, ...args: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  ws.send = function (this: WebSocket, ...args: unknown[]) {
    if (!corked && socket.writable) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    send.apply(this, args);
  } as WebSocket['send'];
}
