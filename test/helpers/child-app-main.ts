// An app instance in a process of its own, for tests that kill it hard (kill -9): configured
// from its environment like the real server, it prints "LISTENING <port>" once it accepts traffic.
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/env.js';

const app = await buildApp(loadConfig());
const { port } = await app.start(0);
process.stdout.write(`LISTENING ${port}\n`);
