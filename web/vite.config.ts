import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// `npm run dev:web` serves the client at http://localhost:5173/app/ and forwards /graphql
// (HTTP and WebSocket) to the API, so the browser talks to one origin just as in production.
const api = process.env.API_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: true },
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '/graphql': { target: api, ws: true, changeOrigin: false } },
  },
});
