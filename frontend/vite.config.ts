import { defineConfig } from "vite";

// The console is served by FastAPI (backend/api.py) from backend/static/console; nothing loads from a CDN.
export default defineConfig({
  base: "/",
  build: { outDir: "../backend/static/console", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { proxy: { "/graphql": "http://127.0.0.1:8000" } },
});
