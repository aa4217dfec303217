// Signs in with the installed client, then chats over the typed Socket.IO wrapper, against a
// live server; driven by tests/test_typescript_package.py.
// Usage: node chat.mjs <server url> <email> <password> <peer user id> <text>
// With "-" for the email it does not sign in, and connects without a token.
// Prints one JSON line per step or event; exits 0 once `message_sent` and `activity_updated`
// came, 1 on connect_error, 2 on timeout.
import { createApiClient } from "@music-streaming/api-client";
import { connectRealtime } from "@music-streaming/api-client/realtime";

const [url, email, password, peerId, text] = process.argv.slice(2);
const print = (event, data) => console.log(JSON.stringify({ event, data }));

const api = createApiClient({ baseUrl: url });
if (email !== "-") {
  const user = await api.signIn(email, password);
  print("signed_in", user.id);
  const tokens = await api.tokens();
  print("tokens", { access: typeof tokens?.access, refresh: typeof tokens?.refresh });
}

const socket = connectRealtime(url, {
  // Read at every (re)connect: after a refresh, the new access token is sent.
  token: async () => (await api.tokens())?.access ?? null,
  reconnection: false,
  timeout: 10000,
});
const giveUp = setTimeout(() => {
  print("timeout", null);
  socket.close();
  process.exit(2);
}, 20000);

const seen = new Set();
const finishWhenDone = (event) => {
  seen.add(event);
  if (seen.has("message_sent") && seen.has("activity_updated")) {
    clearTimeout(giveUp);
    socket.close();
  }
};

socket.on("connect_error", (error) => {
  print("connect_error", error.message);
  clearTimeout(giveUp);
  socket.close();
  process.exitCode = 1;
});
socket.on("users_online", (userIds) => {
  print("users_online", userIds);
  socket.emit("update_activity", { activity: "Playing So What by Miles Davis" });
  socket.emit("send_message", { receiver_id: Number(peerId), content: text });
});
socket.on("activities", (activities) => print("activities", activities));
socket.on("message_error", (error) => print("message_error", error));
socket.on("activity_updated", (update) => {
  print("activity_updated", update);
  finishWhenDone("activity_updated");
});
socket.on("message_sent", (message) => {
  print("message_sent", message);
  finishWhenDone("message_sent");
});
