// Drives the real socket.io-client against a live server, as the Node frontend would.
// Usage: node chat.mjs <server url> <access token or "-" for none> <peer user id> <text>
// Prints one JSON line per event received. Sends <text> to the peer once the presence list
// arrives, and exits 0 after its own message is confirmed and a message from the peer came.
import { io } from "socket.io-client";

const [url, token, peerId, text] = process.argv.slice(2);
const print = (event, data) => console.log(JSON.stringify({ event, data }));

const socket = io(url, {
  auth: token === "-" ? {} : { token },
  reconnection: false,
  timeout: 10000,
});
const giveUp = setTimeout(() => {
  print("timeout", null);
  process.exit(2);
}, 20000);

let sent = false;
let received = false;
const finishWhenDone = () => {
  if (sent && received) {
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
socket.on("users_online", (users) => {
  print("users_online", users);
  socket.emit("send_message", { receiver_id: Number(peerId), content: text });
});
socket.on("activities", (activities) => print("activities", activities));
socket.on("user_connected", (userId) => print("user_connected", userId));
socket.on("message_error", (error) => print("message_error", error));
socket.on("message_sent", (message) => {
  print("message_sent", message);
  sent = true;
  finishWhenDone();
});
socket.on("receive_message", (message) => {
  print("receive_message", message);
  received = true;
  finishWhenDone();
});
