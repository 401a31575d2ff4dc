// Configuration for the MikroORM CLI (`npx mikro-orm ...`); the app builds the same options in src/db/db.ts.
import { loadConfig } from './src/env.js';
import { ormOptions } from './src/db/db.js';

const config = loadConfig();
if (!config.DATABASE_URL) {
  throw new Error('The MikroORM CLI needs DATABASE_URL; `npm run migration:create` works without it.');
}

export default ormOptions(config.DATABASE_URL, config.DATABASE_POOL_MAX);
