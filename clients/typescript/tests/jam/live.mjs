// ClockSync and JamPlayer against a live server, driven by tests/test_jam_client.py.
// Usage: node live.mjs <server url> <access token> <jam id>
// Prints one JSON line per step; exits 0 once the command came back, 2 on timeout.
import { ClockSync, JamPlayer, connectJam } from "../../dist/jam.js";

const [url, token, jamIdText] = process.argv.slice(2);
const jamId = Number(jamIdText);
const print = (event, data) => console.log(JSON.stringify({ event, data }));

const socket = connectJam(url, { token, reconnection: false, timeout: 10_000 });
const giveUp = setTimeout(() => {
  print("timeout", null);
  socket.close();
  process.exit(2);
}, 20_000);

socket.on("connect_error", (error) => {
  print("connect_error", error.message);
  clearTimeout(giveUp);
  process.exitCode = 1;
});

socket.on("connect", async () => {
  const clock = new ClockSync(socket, { jamId });
  for (let sample = 0; sample < 5; sample += 1) await clock.syncOnce();
  print("clock", { offset_ms: clock.offsetMs, rtt_ms: clock.rttMs, samples: clock.sampleCount });

  // No audio in Node: a player that notes when it was told to play, in server time.
  const played = [];
  const player = {
    currentTime: 0,
    paused: true,
    play() {
      this.paused = false;
      played.push({ server_ms: clock.serverNow(), position_ms: Math.round(this.currentTime * 1000) });
    },
    pause() {
      this.paused = true;
    },
  };
  const loaded = [];
  let command = null;
  const jam = new JamPlayer(socket, {
    jamId,
    player,
    clock,
    load: (itemId, item) => loaded.push([itemId, item?.song.id ?? null]),
    onCommand: (event) => (command = event),
  });
  const joined = await jam.join();
  print("joined", { ok: joined.ok, seq: joined.ok ? joined.state.now.seq : null, loaded });

  const ack = await jam.command("play");
  print("ack", ack);
  // The command's moment, plus a margin for the timer.
  const wait = ack.ok ? Math.max(0, clock.toLocal(ack.command.at_server_ms) - clock.now()) + 200 : 0;
  setTimeout(() => {
    print("command", command);
    print("played", played);
    print("now", jam.now);
    jam.destroy();
    clearTimeout(giveUp);
    socket.close();
  }, wait);
});
