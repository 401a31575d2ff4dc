// `npm run tokens:flush`: deletes expired refresh tokens, sessions and email tokens (the server
// also does this every TOKEN_FLUSH_INTERVAL_SECONDS).
import { initORM } from './db/db.js';
import { loadConfig } from './env.js';
import { flushExpiredTokens } from './modules/auth/token-flush.js';

const config = loadConfig();
if (!config.DATABASE_URL) {
  console.error('tokens:flush needs DATABASE_URL (the embedded database is only reachable while `npm start` runs).');
  process.exit(1);
}
const orm = await initORM(config.DATABASE_URL, 1);
try {
  const counts = await flushExpiredTokens(orm.em.fork(), config.ACCESS_TOKEN_TTL);
  console.log(JSON.stringify({ deleted: counts }));
} finally {
  await orm.close(true);
}
