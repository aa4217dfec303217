// A consumer's TypeScript, compiled with `tsc --strict` against the installed package by
// tests/test_typescript_package.py. Each line marked `// case: <name>` is swapped for a
// wrong one by the test, which must then fail to compile.
import { ApiError, createApiClient, type Song, type TokenPair } from "@music-streaming/api-client";
import { connectRealtime, type Message, type RealtimeSocket } from "@music-streaming/api-client/realtime";
import type { paths } from "@music-streaming/api-client/schema";

const api = createApiClient({ baseUrl: "http://localhost:8000" });

const { data: health } = await api.client.GET("/api/health/");
const status: "ok" | "degraded" | undefined = health?.status; // case: response-field

const songs: Song[] = [];
let cursor: string | null = null;
do {
  const page = await api.listSongs({ search: "blue", ordering: "title", limit: 100, cursor }); // case: query-param
  songs.push(...page.items);
  cursor = page.next;
} while (cursor !== null);

const tokens: TokenPair | null = await api.tokens();
const socket: RealtimeSocket = connectRealtime("http://localhost:8000", {
  token: async () => (await api.tokens())?.access ?? null,
  autoConnect: false,
});
socket.on("receive_message", (message: Message) => console.log(message.content)); // case: listener-payload
socket.on("users_online", (userIds) => console.log(userIds.map((id) => id + 1)));
socket.on("presence", ({ online, offline }) => console.log(online.map(([id, activity]) => activity + id), offline)); // case: presence-payload
socket.emit("send_message", { receiver_id: 2, content: "Hello" }); // case: emit-payload
socket.emit("update_activity", { activity: "Idle" }); // case: event-name

type Album = paths["/api/albums/{album_id}/"]["get"]["responses"][200]["content"]["application/json"];
const title: Album["title"] = "Kind of Blue";

export { ApiError, status, songs, tokens, title };
