// A player app's TypeScript against src/jam.ts, compiled with `tsc --strict` by
// tests/test_jam_client.py: the chat's socket carries the Jam events, typed both ways, and
// is what ClockSync and JamPlayer take. Each line marked `// case: <name>` is swapped for a
// wrong one by the test, which must then fail to compile.
import {
  ClockSync,
  JamPlayer,
  connectJam,
  type JamCommand,
  type JamSocket,
  type JamState,
  type JamTransport,
  type Player,
} from "../../src/jam.js";

const socket: JamSocket = connectJam("http://localhost:8000", { token: "t", autoConnect: false });
const transport: JamTransport = socket;

socket.on("jam_command", (command: JamCommand) => console.log(command.at_server_ms, command.waiting_for)); // case: command-field
socket.on("jam_state", (state: JamState) => console.log(state.now.position_ms, state.queue[0]?.song.title, state.server_ms));
socket.on("jam_closed", ({ reason }) => console.log(reason === "host_left")); // case: closed-reason
socket.on("receive_message", (message) => console.log(message.content)); // the chat's events still
socket.emit("jam_command", { jam_id: 4, action: "seek", position_ms: 1000 }, (ack) => { // case: emit-action
  if (ack.ok) console.log(ack.command.seq);
  else console.log(ack.error.code, ack.error.detail);
});
const answer = await socket.timeout(5000).emitWithAck("time_sync", { t0: Date.now(), jam_id: 4 });
if ("t1" in answer) console.log(answer.t2 - answer.t1);

const audio: Player = { currentTime: 0, play: () => Promise.resolve(), pause: () => undefined };
const clock = new ClockSync(transport, { now: () => Date.now() });
const jam = new JamPlayer(socket, { jamId: 4, player: audio, clock, load: (itemId, item) => console.log(itemId, item?.song.id) });
const joined = await jam.join();
if (joined.ok) console.log(joined.state.members.map((member) => member.role));
await jam.command("seek", { position_ms: 1000 }); // case: seek-needs-position
await jam.command("jump", { item_id: 91 });
await jam.command("next");
await jam.queueAdd({ album_id: 3 });
console.log(clock.serverNow(), clock.toLocal(0), clock.rttMs);
