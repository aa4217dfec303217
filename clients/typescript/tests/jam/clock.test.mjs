// ClockSync and the NTP arithmetic, with a fake clock and a server whose clock is skewed and
// whose routes are asymmetric (API.md section 8, "Clock").
import assert from "node:assert/strict";
import { test } from "node:test";

import { ClockSync, bestSample, clockSample } from "../../dist/jam.js";
import { FakeClock, FakeSocket, settle, timeServer } from "./fakes.mjs";

const SKEW_MS = 5000;

function setUp(routes, options = {}) {
  const clock = new FakeClock();
  const socket = new FakeSocket();
  timeServer(socket, clock, { skewMs: SKEW_MS, routes });
  const sync = new ClockSync(socket, { now: clock.now, timers: clock.timers, ...options });
  return { clock, socket, sync };
}

/** Runs one time_sync to its ack; its sample. */
async function syncOnce(clock, sync) {
  const sample = sync.syncOnce();
  await clock.advance(1000);
  return sample;
}

test("one exchange: the delay leaves out the server's work, the offset is off by half the asymmetry", () => {
  // Server 5 s ahead; 30 ms there, 10 ms back, 2 ms of work.
  const t0 = 1000;
  const t1 = t0 + 30 + SKEW_MS;
  const t2 = t1 + 2;
  const t3 = t0 + 30 + 2 + 10;

  assert.deepEqual(clockSample(t0, t1, t2, t3), { delayMs: 40, offsetMs: SKEW_MS + 10 });
  // A symmetric route gives the skew exactly.
  assert.deepEqual(clockSample(0, 20 + SKEW_MS, 20 + SKEW_MS, 40), { delayMs: 40, offsetMs: SKEW_MS });
});

test("bestSample picks the lowest delay, the first of equals", () => {
  const samples = [
    { delayMs: 80, offsetMs: 1 },
    { delayMs: 20, offsetMs: 2 },
    { delayMs: 20, offsetMs: 3 },
    { delayMs: 90, offsetMs: 4 },
  ];
  assert.deepEqual(bestSample(samples), { delayMs: 20, offsetMs: 2 });
  assert.equal(bestSample([]), null);
});

test("with a skewed clock and asymmetric routes the lowest-delay sample wins", async () => {
  // Delays 120, 20, 205, 80; offsets skew+40, skew, skew+97.5, skew.
  const { clock, sync } = setUp([
    [100, 20],
    [10, 10],
    [200, 5],
    [40, 40],
  ]);
  assert.equal(sync.synced, false);
  assert.equal(sync.offsetMs, 0);
  assert.equal(sync.rttMs, null);

  const first = await syncOnce(clock, sync);
  assert.deepEqual(first, { delayMs: 120, offsetMs: SKEW_MS + 40 });
  assert.equal(sync.offsetMs, SKEW_MS + 40);

  await syncOnce(clock, sync);
  await syncOnce(clock, sync);
  await syncOnce(clock, sync);

  assert.equal(sync.sampleCount, 4);
  assert.equal(sync.offsetMs, SKEW_MS);
  assert.equal(sync.rttMs, 20);
  assert.equal(sync.serverNow(), clock.now() + SKEW_MS);
  assert.equal(sync.toLocal(clock.now() + SKEW_MS + 300), clock.now() + 300);
  assert.equal(sync.toServer(clock.now()), sync.serverNow());
});

test("only the last eight samples count", async () => {
  // A fast exchange first, then eight slower ones whose offsets are 20 ms off.
  const routes = [[5, 5], ...Array(8).fill([60, 20])];
  const { clock, sync } = setUp(routes);

  for (let exchange = 0; exchange < 8; exchange += 1) await syncOnce(clock, sync);
  assert.equal(sync.offsetMs, SKEW_MS);
  assert.equal(sync.rttMs, 10);

  await syncOnce(clock, sync); // the ninth pushes the fast one out

  assert.equal(sync.samples.length, 8);
  assert.equal(sync.rttMs, 80);
  assert.equal(sync.offsetMs, SKEW_MS + 20);
});

test("the loop syncs every second for five samples, then every ten, with jam_id and rtt_ms", async () => {
  const { clock, socket, sync } = setUp([[10, 10]], { jamId: 4 });
  const sentAt = [];
  const answer = socket.answers.time_sync;
  socket.answers.time_sync = (data, ack) => {
    sentAt.push(clock.now());
    answer(data, ack);
  };

  sync.start();
  sync.start(); // a second start runs no second loop
  await clock.advance(30_000);

  // Each exchange takes 22 ms (10 + 2 + 10); the next one follows its answer.
  const gaps = sentAt.slice(1).map((at, index) => at - sentAt[index]);
  assert.deepEqual(gaps.slice(0, 6), [1022, 1022, 1022, 1022, 10_022, 10_022]);
  const payloads = socket.payloads("time_sync");
  assert.deepEqual(Object.keys(payloads[0]).sort(), ["jam_id", "t0"]);
  assert.deepEqual(payloads[1], { t0: sentAt[1], jam_id: 4, rtt_ms: 20 });

  sync.stop();
  const sent = socket.sent.length;
  await clock.advance(60_000);
  assert.equal(socket.sent.length, sent);
});

test("refusals, stale acks, silence and a closed socket give no sample", async () => {
  const { clock, socket, sync } = setUp([[10, 10]], { ackTimeoutMs: 5000 });

  socket.answers.time_sync = (data, ack) => ack({ ok: false, error: { code: "forbidden", detail: "No." } });
  assert.equal(await syncOnce(clock, sync), null);
  socket.answers.time_sync = (data, ack) => ack({ t0: data.t0 - 1, t1: 1, t2: 2 });
  assert.equal(await syncOnce(clock, sync), null);

  socket.answers.time_sync = () => undefined;
  const silent = sync.syncOnce();
  let settled = false;
  silent.then(() => (settled = true));
  await clock.advance(4999);
  assert.equal(settled, false);
  await clock.advance(1);
  assert.equal(await silent, null);

  socket.connected = false;
  const before = socket.sent.length;
  assert.equal(await sync.syncOnce(), null);
  assert.equal(socket.sent.length, before);
  assert.equal(sync.synced, false);
});

test("ready() waits for the first sample, or gives up after its timeout", async () => {
  const { clock, sync } = setUp([[10, 10]]);
  let ready = false;
  sync.ready(3000).then(() => (ready = true));
  await settle();
  assert.equal(ready, false);
  sync.syncOnce();
  await clock.advance(22);
  assert.equal(ready, true);

  const silent = setUp([[10, 10]]);
  silent.socket.answers.time_sync = () => undefined;
  let gaveUp = false;
  silent.sync.ready(3000).then(() => (gaveUp = true));
  await silent.clock.advance(2999);
  assert.equal(gaveUp, false);
  await silent.clock.advance(1);
  assert.equal(gaveUp, true);
});
