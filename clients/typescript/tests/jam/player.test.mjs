// JamPlayer with a fake clock, socket and player: scheduling, late starts, seq order, drift,
// buffering and end reports, joining mid-song, commands and the queue (API.md section 8).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ClockSync,
  DRIFT_LIMIT_MS,
  JamPlayer,
  driftMs,
  expectedPositionMs,
  isNewer,
  shouldSeek,
  startDelayMs,
} from "../../dist/jam.js";
import { FakeClock, FakePlayer, FakeSocket, settle } from "./fakes.mjs";

const JAM_ID = 4;
// The server's clock is 5 s ahead of ours.
const OFFSET_MS = 5000;
const QUEUE = [
  { id: 91, position: 0, song: { id: 12, title: "Halo" }, added_by: null },
  { id: 92, position: 1, song: { id: 13, title: "So What" }, added_by: null },
];

function setUp(options = {}) {
  const clock = new FakeClock();
  const socket = new FakeSocket();
  const player = new FakePlayer(clock);
  const sync = new ClockSync(socket, { now: clock.now, timers: clock.timers });
  // One exchange on a symmetric 20 ms route: the offset exactly.
  const t0 = clock.now();
  sync.addSample(t0, t0 + 10 + OFFSET_MS, t0 + 10 + OFFSET_MS, t0 + 20);
  const loaded = [];
  const jam = new JamPlayer(socket, {
    jamId: JAM_ID,
    player,
    clock: sync,
    timers: clock.timers,
    load: (itemId, item) => loaded.push([itemId, item?.song.title]),
    ...options,
  });
  const server = () => clock.now() + OFFSET_MS;
  const command = (fields) =>
    socket.receive("jam_command", {
      jam_id: JAM_ID,
      action: "play",
      by: 5,
      item_id: 91,
      position_ms: 0,
      playing: true,
      waiting_for: [],
      ...fields,
    });
  return { clock, socket, player, sync, jam, loaded, server, command };
}

function state(now, extra = {}) {
  return { id: JAM_ID, code: "K7QM2XWA", queue: QUEUE, members: [], now, ...extra };
}

// --- the pure helpers --------------------------------------------------------------------

test("the pure helpers", () => {
  const playing = { position_ms: 10_000, playing: true, at_server_ms: 50_000 };
  assert.equal(expectedPositionMs(playing, 51_500), 11_500);
  assert.equal(expectedPositionMs(playing, 49_000), 10_000); // before its moment: its position
  assert.equal(expectedPositionMs({ ...playing, playing: false }, 90_000), 10_000);
  assert.equal(startDelayMs(50_000, 49_600), 400);
  assert.equal(startDelayMs(50_000, 50_100), 0);
  assert.equal(driftMs(10_300, 10_000), 300);
  assert.equal(DRIFT_LIMIT_MS, 250);
  assert.equal(shouldSeek(250), false);
  assert.equal(shouldSeek(-250), false);
  assert.equal(shouldSeek(251), true);
  assert.equal(shouldSeek(-251), true);
  assert.equal(shouldSeek(100, 50), true);
  assert.equal(isNewer(3, null), true);
  assert.equal(isNewer(3, 3), false);
  assert.equal(isNewer(2, 3), false);
  assert.equal(isNewer(4, 3), true);
});

// --- commands ------------------------------------------------------------------------------

test("a command ahead is played at its moment on our clock, from its position", async () => {
  const { clock, player, jam, loaded, server, command } = setUp();

  command({ seq: 1, position_ms: 10_000, at_server_ms: server() + 400 });

  assert.deepEqual(loaded, [[91, undefined]]);
  assert.equal(player.paused, true);
  assert.equal(player.positionMs, 10_000);
  await clock.advance(399);
  assert.equal(player.paused, true);
  await clock.advance(1);
  assert.equal(player.paused, false);
  assert.equal(player.positionMs, 10_000);
  await clock.advance(1000);
  assert.equal(player.positionMs, 11_000);
  assert.equal(jam.expectedPositionMs(), 11_000);
});

test("a command whose moment passed starts where the room is now", async () => {
  const { player, jam, server, command } = setUp();

  command({ seq: 1, position_ms: 10_000, at_server_ms: server() - 1500 });

  assert.equal(player.paused, false);
  assert.equal(player.positionMs, 11_500);
  assert.deepEqual(jam.now, { item_id: 91, position_ms: 10_000, playing: true, at_server_ms: server() - 1500, seq: 1 });
});

test("a later seq replaces an earlier one; an earlier or the same one changes nothing", async () => {
  const { clock, player, jam, server, command, socket } = setUp();
  const seen = [];
  socket.receive("jam_command", { jam_id: 99, seq: 50, item_id: 91, position_ms: 1, playing: true, at_server_ms: 0 });

  command({ seq: 5, action: "seek", position_ms: 20_000, at_server_ms: server() });
  command({ seq: 4, action: "play", position_ms: 0, at_server_ms: server() });
  command({ seq: 5, action: "seek", position_ms: 30_000, at_server_ms: server() });
  seen.push(player.positionMs, jam.now.seq);
  await clock.advance(100);
  command({ seq: 6, action: "pause", position_ms: 40_000, playing: false, at_server_ms: server() });
  seen.push(player.positionMs, player.paused, jam.now.seq);

  assert.deepEqual(seen, [20_000, 5, 40_000, true, 6]);
});

test("a pause ahead lets the music play until its moment, then stops at its position", async () => {
  const { clock, player, server, command } = setUp();
  command({ seq: 1, position_ms: 0, at_server_ms: server() });
  await clock.advance(5000);

  command({ seq: 2, action: "pause", playing: false, position_ms: 5300, at_server_ms: server() + 300 });
  await clock.advance(299);
  assert.equal(player.paused, false);
  await clock.advance(1);

  assert.equal(player.paused, true);
  assert.equal(player.positionMs, 5300);
});

test("a new item is loaded once, and a command for no item pauses", async () => {
  const { player, jam, loaded, server, command, socket } = setUp();
  socket.receive("jam_state", state({ item_id: 91, position_ms: 0, playing: false, at_server_ms: server(), seq: 1 }));

  command({ seq: 2, action: "next", item_id: 92, at_server_ms: server() });
  command({ seq: 3, action: "seek", item_id: 92, position_ms: 9000, at_server_ms: server() });
  command({ seq: 4, action: "ended", item_id: null, playing: false, at_server_ms: server() });

  assert.deepEqual(loaded, [
    [91, "Halo"],
    [92, "So What"],
  ]);
  assert.equal(player.paused, true);
  assert.equal(jam.state.code, "K7QM2XWA");
});

// --- drift ---------------------------------------------------------------------------------

test("drift past 250 ms is corrected by a seek, never by the playback rate; 250 ms or less is left", async () => {
  const { clock, player, jam, server, command, socket } = setUp({ driftCheckMs: 500 });
  const now = { item_id: 91, position_ms: 0, playing: true, at_server_ms: server(), seq: 1 };
  socket.answers.jam_join = (data, ack) => ack({ ok: true, state: state(now) });
  await jam.join(); // and the drift checks start
  await clock.advance(1000);
  const seeks = () => player.log.filter(([what]) => what === "seek").length;
  const before = seeks();

  player.drift(200);
  await clock.advance(1000);
  assert.equal(jam.corrections, 0);
  assert.equal(seeks(), before);
  assert.equal(jam.checkDrift(), false);

  player.drift(-450); // now 250 behind: still within
  assert.equal(jam.checkDrift(), false);
  player.drift(-1); // 251 behind
  await clock.advance(500);
  assert.equal(jam.corrections, 1);
  assert.equal(player.positionMs, jam.expectedPositionMs());

  player.drift(300); // ahead
  assert.equal(jam.checkDrift(), true);
  assert.equal(player.positionMs, jam.expectedPositionMs());
  assert.equal(jam.corrections, 2);
  assert.deepEqual(player.rateWrites, []);
});

test("no drift correction while paused, before the start or while buffering", async () => {
  const { clock, player, jam, server, command } = setUp();
  command({ seq: 1, position_ms: 0, at_server_ms: server() + 1000 });
  player.drift(5000);
  assert.equal(jam.checkDrift(), false); // scheduled, not started

  await clock.advance(1000);
  jam.onWaiting();
  player.drift(5000);
  assert.equal(jam.checkDrift(), false);
  jam.onReady();
  assert.equal(jam.checkDrift(), true);

  command({ seq: 2, action: "pause", playing: false, position_ms: 100, at_server_ms: server() });
  player.drift(5000);
  assert.equal(jam.checkDrift(), false);
});

// --- reports -------------------------------------------------------------------------------

test("a lasting wait is reported as buffering, then ready; a short one is not", async () => {
  const { clock, socket, jam, server, command } = setUp({ bufferingAfterMs: 500 });
  command({ seq: 1, position_ms: 0, at_server_ms: server() });

  jam.onWaiting();
  await clock.advance(300);
  jam.onReady();
  await clock.advance(1000);
  assert.deepEqual(socket.payloads("jam_buffering"), []);
  assert.deepEqual(socket.payloads("jam_ready"), []);

  jam.onWaiting();
  await clock.advance(500);
  jam.onWaiting(); // the same wait, again
  await clock.advance(500);
  assert.deepEqual(socket.payloads("jam_buffering"), [{ jam_id: JAM_ID }]);
  jam.onReady();
  jam.onReady();
  assert.deepEqual(socket.payloads("jam_ready"), [{ jam_id: JAM_ID }]);
});

test("a paused room is not held for our buffering", async () => {
  const { clock, socket, jam, server, command } = setUp({ bufferingAfterMs: 0 });
  command({ seq: 1, playing: false, position_ms: 0, at_server_ms: server() });

  jam.onWaiting();
  await clock.advance(1000);

  assert.deepEqual(socket.payloads("jam_buffering"), []);
});

test("the end of an item is reported once per command", async () => {
  const { socket, jam, server, command } = setUp();
  command({ seq: 1, item_id: 91, at_server_ms: server() });

  jam.onEnded();
  jam.onEnded();
  command({ seq: 2, action: "ended", item_id: 92, at_server_ms: server() });
  jam.onEnded();

  assert.deepEqual(socket.payloads("jam_ended"), [
    { jam_id: JAM_ID, item_id: 91 },
    { jam_id: JAM_ID, item_id: 92 },
  ]);
});

// --- joining -------------------------------------------------------------------------------

test("joining mid-song starts at the room's position now", async () => {
  const { clock, socket, player, jam, loaded, server } = setUp();
  const now = { item_id: 92, position_ms: 3000, playing: true, at_server_ms: server() - 42_000, seq: 7 };
  socket.answers.jam_join = (data, ack) => ack({ ok: true, state: { ...state(now), server_ms: server() } });

  const answer = await jam.join();

  assert.equal(answer.ok, true);
  assert.deepEqual(socket.payloads("jam_join"), [{ jam_id: JAM_ID }]);
  assert.deepEqual(loaded, [[92, "So What"]]);
  assert.equal(player.paused, false);
  assert.equal(player.positionMs, 45_000);
  assert.equal(jam.now.seq, 7);
  await clock.advance(2000);
  assert.equal(player.positionMs, 47_000);
});

test("joining with its own clock syncs first and sends the Jam's id with the syncs", async () => {
  const clock = new FakeClock();
  const socket = new FakeSocket();
  const player = new FakePlayer(clock);
  socket.answers.time_sync = (data, ack) => {
    const t1 = clock.now() + OFFSET_MS + 15;
    clock.timers.setTimeout(() => ack({ t0: data.t0, t1, t2: t1 }), 30);
  };
  socket.answers.jam_join = (data, ack) =>
    ack({
      ok: true,
      state: state({ item_id: 91, position_ms: 1000, playing: true, at_server_ms: clock.now() + OFFSET_MS - 500, seq: 2 }),
    });
  const jam = new JamPlayer(socket, { jamId: JAM_ID, player, load: () => undefined, now: clock.now, timers: clock.timers });

  const joined = jam.join();
  await clock.advance(30);
  await joined;

  assert.equal(jam.clock.offsetMs, OFFSET_MS);
  assert.deepEqual(socket.sent.map(({ event }) => event), ["time_sync", "jam_join"]);
  assert.equal(socket.payloads("time_sync")[0].jam_id, JAM_ID);
  assert.equal(player.positionMs, 1500); // the state came 500 ms after its moment
  jam.destroy();
  const sent = socket.sent.length;
  await clock.advance(60_000);
  assert.equal(socket.sent.length, sent); // its clock stopped with it
});

// --- asking the room -----------------------------------------------------------------------

test("command() and the queue helpers send the documented payloads and return the ack", async () => {
  const { clock, socket, jam, server } = setUp({ ackTimeoutMs: 2000 });
  const issued = { jam_id: JAM_ID, seq: 3, action: "seek", by: 5, item_id: 91, position_ms: 30_000, playing: true, at_server_ms: server() + 300, waiting_for: [] };
  socket.answers.jam_command = (data, ack) => ack({ ok: true, command: issued });
  for (const event of ["jam_queue_add", "jam_queue_remove", "jam_queue_move"]) {
    socket.answers[event] = (data, ack) => ack({ ok: true });
  }

  assert.deepEqual(await jam.command("seek", { position_ms: 30_000 }), { ok: true, command: issued });
  await jam.command("jump", { item_id: 92 });
  await jam.command("next");
  assert.deepEqual(await jam.queueAdd({ song_ids: [12, 13] }), { ok: true });
  await jam.queueRemove(91);
  await jam.queueMove(92, 0);

  assert.deepEqual(socket.payloads("jam_command"), [
    { jam_id: JAM_ID, action: "seek", position_ms: 30_000 },
    { jam_id: JAM_ID, action: "jump", item_id: 92 },
    { jam_id: JAM_ID, action: "next" },
  ]);
  assert.deepEqual(socket.payloads("jam_queue_add"), [{ jam_id: JAM_ID, song_ids: [12, 13] }]);
  assert.deepEqual(socket.payloads("jam_queue_remove"), [{ jam_id: JAM_ID, item_id: 91 }]);
  assert.deepEqual(socket.payloads("jam_queue_move"), [{ jam_id: JAM_ID, item_id: 92, position: 0 }]);

  // A refusal comes back as is; no answer at all becomes one.
  const refusal = { ok: false, error: { code: "forbidden", detail: "Only the Jam's host or a co-host may do this." } };
  socket.answers.jam_command = (data, ack) => ack(refusal);
  assert.deepEqual(await jam.command("pause"), refusal);
  socket.answers.jam_command = () => undefined;
  const silent = jam.command("play");
  await clock.advance(2000);
  assert.deepEqual(await silent, { ok: false, error: { code: "unavailable", detail: "The server did not answer." } });
});

test("jam_closed stops the player and everything after it is ignored", async () => {
  const closed = [];
  const errors = [];
  const { player, socket, server, command } = setUp({ onClosed: (event) => closed.push(event), onError: (error) => errors.push(error) });
  command({ seq: 1, at_server_ms: server() });
  socket.receive("jam_error", { event: "jam_command", code: "too_fast", detail: "Slow down." });

  socket.receive("jam_closed", { jam_id: 99, reason: "closed" });
  assert.equal(player.paused, false);
  socket.receive("jam_closed", { jam_id: JAM_ID, reason: "host_left" });
  command({ seq: 2, at_server_ms: server() });
  await settle();

  assert.deepEqual(closed, [{ jam_id: JAM_ID, reason: "host_left" }]);
  assert.deepEqual(errors, [{ event: "jam_command", code: "too_fast", detail: "Slow down." }]);
  assert.equal(player.paused, true);
  assert.equal(socket.listeners.get("jam_command").length, 0);
});
