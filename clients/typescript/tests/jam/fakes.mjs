// A fake clock with its timers, a fake socket and a fake player, for the Jam timing tests
// (*.test.mjs here, run by `node --test` against the built dist/jam.js).

/** A clock that moves only when told, and the timers that follow it. */
export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this.time = start;
    this.pending = [];
    this.ids = 0;
    this.now = () => this.time;
    this.timers = {
      setTimeout: (callback, ms) => {
        this.ids += 1;
        this.pending.push({ id: this.ids, at: this.time + Math.max(0, ms), callback });
        return this.ids;
      },
      clearTimeout: (id) => {
        this.pending = this.pending.filter((timer) => timer.id !== id);
      },
    };
  }

  /** Moves on by `ms`, running each timer due at its own moment, promises settled between. */
  async advance(ms) {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.pending.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending = this.pending.filter((timer) => timer !== due);
      this.time = due.at;
      due.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

/** An EventEmitter-like socket: what the client emits is kept; `answer` plays the server. */
export class FakeSocket {
  constructor() {
    this.connected = true;
    this.listeners = new Map();
    this.sent = [];
    this.answers = {};
  }

  on(event, listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  off(event, listener) {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((known) => known !== listener));
    return this;
  }

  emit(event, data, ack) {
    this.sent.push({ event, data });
    this.answers[event]?.(data, ack);
    return this;
  }

  /** The server sends `event`. */
  receive(event, data) {
    for (const listener of this.listeners.get(event) ?? []) listener(data);
  }

  /** The payloads sent for `event`. */
  payloads(event) {
    return this.sent.filter((sent) => sent.event === event).map((sent) => sent.data);
  }
}

/**
 * A server whose clock is `skewMs` ahead of the fake clock, answering `time_sync` after
 * `up` ms on the way there and `down` ms back (the next pair of `routes` each time), taking
 * `work` ms to answer.
 */
export function timeServer(socket, clock, { skewMs, routes, work = 2 }) {
  let exchange = 0;
  socket.answers.time_sync = (data, ack) => {
    const [up, down] = routes[Math.min(exchange, routes.length - 1)];
    exchange += 1;
    const t1 = clock.now() + up + skewMs;
    clock.timers.setTimeout(() => ack({ t0: data.t0, t1, t2: t1 + work }), up + work + down);
  };
}

/**
 * An audio element's timing: while playing, its position moves with the fake clock. Every
 * seek, play and pause is logged; `playbackRate` records any write.
 */
export class FakePlayer {
  constructor(clock) {
    this.clock = clock;
    this.positionS = 0;
    this.since = clock.now();
    this.paused = true;
    this.seeking = false;
    this.duration = Number.NaN;
    this.log = [];
    this.rateWrites = [];
  }

  get currentTime() {
    return this.paused ? this.positionS : this.positionS + (this.clock.now() - this.since) / 1000;
  }

  set currentTime(seconds) {
    this.log.push(["seek", Math.round(seconds * 1000)]);
    this.positionS = seconds;
    this.since = this.clock.now();
  }

  get playbackRate() {
    return 1;
  }

  set playbackRate(rate) {
    this.rateWrites.push(rate);
  }

  play() {
    if (this.paused) {
      this.since = this.clock.now();
      this.paused = false;
    }
    this.log.push(["play", Math.round(this.currentTime * 1000)]);
    return Promise.resolve();
  }

  pause() {
    this.positionS = this.currentTime;
    this.paused = true;
    this.log.push(["pause", Math.round(this.positionS * 1000)]);
  }

  /** Moves the position by `ms` without a seek being logged: drift. */
  drift(ms) {
    this.positionS += ms / 1000;
  }

  /** ms into the item now. */
  get positionMs() {
    return Math.round(this.currentTime * 1000);
  }
}
