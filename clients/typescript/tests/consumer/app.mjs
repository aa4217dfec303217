// A consumer's plain JavaScript, run by Node against the installed package (and, bundled by
// esbuild, once more) by tests/test_typescript_package.py, against its stub server.
// Usage: node app.mjs <server url>. Prints one JSON object.
import { ApiError, createApiClient } from "@music-streaming/api-client";
import { connectRealtime } from "@music-streaming/api-client/realtime";

const api = createApiClient({ baseUrl: process.argv[2] });

const { data: health, response } = await api.client.GET("/api/health/");

// README.md's pagination loop: follow `next` until it is null.
const titles = [];
let cursor = null;
do {
  const page = await api.listSongs({ search: "blue", limit: 2, cursor });
  titles.push(...page.items.map((song) => song.title));
  cursor = page.next;
} while (cursor !== null);

let missing = null;
try {
  await api.listSongs({ search: "missing" });
} catch (error) {
  missing = error instanceof ApiError ? { status: error.status, message: error.message } : String(error);
}

const socket = connectRealtime(process.argv[2], { token: "not-used", autoConnect: false });

console.log(
  JSON.stringify({
    health: { status: response.status, body: health },
    titles,
    missing,
    tokens: await api.tokens(),
    socket: { connected: socket.connected, hasEmit: typeof socket.emit === "function" },
  }),
);
