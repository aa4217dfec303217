/**
 * Jam timing for players (API.md, section 8 "Jam: listening together"): the clock sync, the
 * scheduling of `jam_command`s, joining mid-song, drift correction by seeking, and the
 * buffering and end-of-item reports, so a player team does not invent the timing.
 *
 *   const socket = connectJam("http://localhost:8000", { token: async () => (await api.tokens())?.access ?? null });
 *   const jam = new JamPlayer(socket, {
 *     jamId: 4,
 *     player: audio,                                          // an HTMLAudioElement
 *     load: (itemId, item) => { audio.src = streamUrlOf(item); },   // your rendition
 *   });
 *   audio.addEventListener("waiting", () => jam.onWaiting());
 *   audio.addEventListener("canplay", () => jam.onReady());
 *   audio.addEventListener("ended", () => jam.onEnded());
 *   await jam.join();
 *   await jam.command("seek", { position_ms: 30_000 });
 *
 * Everything that reads a clock or sets a timer takes it as an option (`now`, `timers`), so
 * the timing can be tested with a fake clock.
 */
import type { Socket } from "socket.io-client";
import type { components } from "../schema.js";
import { connectRealtime } from "./realtime.js";
import type { ClientToServerEvents, RealtimeOptions, ServerToClientEvents } from "./realtime.js";

// ---------------------------------------------------------------------------
// The protocol's types
// ---------------------------------------------------------------------------

/** A Jam as REST renders it (`JamOut`). */
export type Jam = components["schemas"]["JamOut"];
/** Where playback is: at the server's `at_server_ms`, at `position_ms` of `item_id`. */
export type JamNow = components["schemas"]["JamNowOut"];
/** One item of the shared queue. */
export type JamItem = components["schemas"]["JamItemOut"];
/** A member: `UserPublic` plus `role` and `joined_at`. */
export type JamMember = components["schemas"]["JamMemberOut"];

/** `jam_state`: a `JamOut` (file URLs relative: no request on a socket) plus the server's clock. */
export type JamState = Jam & { server_ms: number };

/** The actions a member may ask for. */
export type JamAction = "play" | "pause" | "seek" | "next" | "previous" | "jump";
/** What caused a `jam_command`: a member's action, or the server's own (`by` null). */
export type JamCommandAction = JamAction | "hold" | "resume" | "ended";

/** `jam_command`: at the server's `at_server_ms`, be at `position_ms` of `item_id`, playing or not. */
export interface JamCommand {
  jam_id: number;
  seq: number;
  action: JamCommandAction;
  by: number | null;
  item_id: number | null;
  position_ms: number;
  playing: boolean;
  at_server_ms: number;
  /** The members the room holds for (buffering). */
  waiting_for: number[];
}

export type JamClosedReason = "closed" | "host_left" | "idle" | "removed";

/** `jam_closed`: the Jam closed, or you were removed from it. */
export interface JamClosed {
  jam_id: number;
  reason: JamClosedReason;
}

export type JamErrorCode = "invalid" | "not_found" | "forbidden" | "too_fast" | "unavailable";

/** `jam_error`: a refused event, which changed nothing. */
export interface JamError {
  event: string;
  code: JamErrorCode;
  detail: string;
}

/** A refusal, as an ack. */
export interface JamRefusal {
  ok: false;
  error: { code: JamErrorCode; detail: string };
}

/** Every Jam event's ack: `{ok: true, ...}` or a refusal. */
export type JamAck<Extra extends object = object> = ({ ok: true } & Extra) | JamRefusal;

/** `time_sync`'s ack: `t1` (received) and `t2` (answered) on the server's clock, Unix ms. */
export interface TimeSyncAnswer {
  t0: number;
  t1: number;
  t2: number;
}

export interface TimeSyncRequest {
  /** Your clock when sending, ms. */
  t0: number;
  /** Your Jam: a Jam whose members sync stays open. */
  jam_id?: number;
  /** Your best round trip: commands are scheduled by the slowest member's. */
  rtt_ms?: number;
}

export interface JamRef {
  jam_id: number;
}

/** `jam_command`'s payload: `seek` needs `position_ms`, `jump` needs `item_id`. */
export type JamCommandRequest = JamRef &
  (
    | { action: "play" | "pause"; position_ms?: number }
    | { action: "seek"; position_ms: number }
    | { action: "next" | "previous" }
    | { action: "jump"; item_id: number }
  );

/** Where added songs come from: exactly one source. */
export type JamQueueSource = { song_ids: number[] } | { album_id: number } | { playlist_id: number };

/** Events the server sends about Jams. */
export interface JamServerToClientEvents {
  /** After any change of members, rights or queue. */
  jam_state: (state: JamState) => void;
  /** Every play, pause, seek, next, previous, jump, hold, resume and end of an item. */
  jam_command: (command: JamCommand) => void;
  /** To each of the members' sockets, in the room or not. */
  jam_closed: (closed: JamClosed) => void;
  /** To the socket whose event was refused. */
  jam_error: (error: JamError) => void;
}

/**
 * Events the client sends about Jams, each with its ack. The ack callback is part of the type
 * so that `socket.timeout(ms).emit(...)` and `emitWithAck` know the answer's shape.
 */
export interface JamClientToServerEvents {
  time_sync: (request: TimeSyncRequest, ack: (answer: TimeSyncAnswer | JamRefusal) => void) => void;
  /** After joining over REST: this socket then gets the Jam's events. */
  jam_join: (ref: JamRef, ack: (answer: JamAck<{ state: JamState }>) => void) => void;
  /** Stops this socket's Jam events; the membership stays (leave over REST). */
  jam_leave: (ref: JamRef, ack: (answer: JamAck) => void) => void;
  jam_command: (request: JamCommandRequest, ack: (answer: JamAck<{ command: JamCommand }>) => void) => void;
  jam_buffering: (ref: JamRef, ack: (answer: JamAck) => void) => void;
  jam_ready: (ref: JamRef, ack: (answer: JamAck) => void) => void;
  jam_ended: (ended: JamRef & { item_id: number }, ack: (answer: JamAck) => void) => void;
  jam_queue_add: (add: JamRef & JamQueueSource, ack: (answer: JamAck) => void) => void;
  jam_queue_remove: (remove: JamRef & { item_id: number }, ack: (answer: JamAck) => void) => void;
  jam_queue_move: (move: JamRef & { item_id: number; position: number }, ack: (answer: JamAck) => void) => void;
}

/** The chat's socket, which also carries the Jam events (one connection for both). */
export type JamSocket = Socket<
  ServerToClientEvents & JamServerToClientEvents,
  ClientToServerEvents & JamClientToServerEvents
>;

/**
 * What `ClockSync` and `JamPlayer` need of a socket: a `JamSocket`, or any object with these
 * methods (a test's fake, another transport).
 */
export interface JamTransport {
  /** When false, syncs are skipped: an ack delayed by a reconnection is no clock sample. */
  readonly connected?: boolean;
  // One signature per event, not a generic one: socket.io's generic `on` and `off` then fit.
  on(event: "jam_state", listener: JamServerToClientEvents["jam_state"]): unknown;
  on(event: "jam_command", listener: JamServerToClientEvents["jam_command"]): unknown;
  on(event: "jam_closed", listener: JamServerToClientEvents["jam_closed"]): unknown;
  on(event: "jam_error", listener: JamServerToClientEvents["jam_error"]): unknown;
  off(event: "jam_state", listener: JamServerToClientEvents["jam_state"]): unknown;
  off(event: "jam_command", listener: JamServerToClientEvents["jam_command"]): unknown;
  off(event: "jam_closed", listener: JamServerToClientEvents["jam_closed"]): unknown;
  off(event: "jam_error", listener: JamServerToClientEvents["jam_error"]): unknown;
  emit<Event extends keyof JamClientToServerEvents>(
    event: Event,
    ...args: Parameters<JamClientToServerEvents[Event]>
  ): unknown;
}

/** `connectRealtime`, typed with the Jam events too: the same socket, the same options. */
export function connectJam(baseUrl: string, options: RealtimeOptions): JamSocket {
  // Widening the event maps only: the server speaks both on this connection.
  return connectRealtime(baseUrl, options) as unknown as JamSocket;
}

// ---------------------------------------------------------------------------
// Clocks and timers (injectable)
// ---------------------------------------------------------------------------

/** Your clock in ms; any origin works, as long as it does not jump (Unix ms by default). */
export type Now = () => number;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// performance.now() is monotonic: a wall clock set by NTP would jump under the offset.
const defaultNow: Now = () => performance.timeOrigin + performance.now();

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

// ---------------------------------------------------------------------------
// Pure timing helpers
// ---------------------------------------------------------------------------

/** Seek when the position is further than this off (API.md: about 250 ms). */
export const DRIFT_LIMIT_MS = 250;

/** One NTP-style exchange: `offsetMs` is the server's clock minus yours. */
export interface ClockSample {
  offsetMs: number;
  delayMs: number;
}

/**
 * The sample of one `time_sync`: t0 sent and t3 received on your clock, t1 received and t2
 * answered on the server's. The server's time answering is not network delay.
 */
export function clockSample(t0: number, t1: number, t2: number, t3: number): ClockSample {
  return { delayMs: t3 - t0 - (t2 - t1), offsetMs: (t1 - t0 + (t2 - t3)) / 2 };
}

/**
 * The lowest-delay sample: its offset errs by at most half its delay, the others by more
 * (an asymmetric route shifts the offset by half the asymmetry). The first of equals wins.
 */
export function bestSample(samples: readonly ClockSample[]): ClockSample | null {
  let best: ClockSample | null = null;
  for (const sample of samples) if (best === null || sample.delayMs < best.delayMs) best = sample;
  return best;
}

/** Where the room is (ms into its item) at the server's `serverNowMs`. */
export function expectedPositionMs(now: Pick<JamNow, "position_ms" | "playing" | "at_server_ms">, serverNowMs: number): number {
  // Before its moment a command holds its own position: every member will be there then.
  if (!now.playing) return now.position_ms;
  return now.position_ms + Math.max(0, serverNowMs - now.at_server_ms);
}

/** How long to wait (ms, your clock) before applying a command; 0 when its moment passed. */
export function startDelayMs(atServerMs: number, serverNowMs: number): number {
  return Math.max(0, atServerMs - serverNowMs);
}

/** Your position minus the room's: positive when ahead. */
export function driftMs(playerPositionMs: number, expectedMs: number): number {
  return playerPositionMs - expectedMs;
}

/** Correct by seeking (never by speed) only past the limit: a seek itself costs a glitch. */
export function shouldSeek(drift: number, limitMs: number = DRIFT_LIMIT_MS): boolean {
  return Math.abs(drift) > limitMs;
}

/** A later `seq` replaces an earlier one; the same one again changes nothing. */
export function isNewer(seq: number, lastAppliedSeq: number | null): boolean {
  return lastAppliedSeq === null || seq > lastAppliedSeq;
}

// ---------------------------------------------------------------------------
// Acks with a deadline
// ---------------------------------------------------------------------------

type Payload<Event extends keyof JamClientToServerEvents> = Parameters<JamClientToServerEvents[Event]>[0];
type Answer<Event extends keyof JamClientToServerEvents> = Parameters<Parameters<JamClientToServerEvents[Event]>[1]>[0];

const NO_ANSWER: JamRefusal = { ok: false, error: { code: "unavailable", detail: "The server did not answer." } };

/** Emits with an ack; a refusal of our own when none comes within `ms` (a lost connection). */
function ask<Event extends keyof JamClientToServerEvents>(
  socket: JamTransport,
  timers: Timers,
  ms: number,
  event: Event,
  payload: Payload<Event>,
): Promise<Answer<Event> | JamRefusal> {
  return new Promise((resolve) => {
    let done = false;
    const timer = timers.setTimeout(() => {
      done = true;
      resolve(NO_ANSWER);
    }, ms);
    const ack = (answer: Answer<Event>): void => {
      if (done) return;
      done = true;
      timers.clearTimeout(timer);
      resolve(answer ?? NO_ANSWER);
    };
    socket.emit(event, ...([payload, ack] as unknown as Parameters<JamClientToServerEvents[Event]>));
  });
}

// ---------------------------------------------------------------------------
// ClockSync
// ---------------------------------------------------------------------------

export interface ClockSyncOptions {
  now?: Now;
  timers?: Timers;
  /** Sent with each sync: the server keeps the Jam open and learns your round trip. */
  jamId?: number | null;
  /** How many recent samples the best is chosen from (8). */
  samplesKept?: number;
  /** Samples taken every `fastIntervalMs` (1 s) before syncing every `slowIntervalMs` (10 s). */
  fastSamples?: number;
  fastIntervalMs?: number;
  slowIntervalMs?: number;
  ackTimeoutMs?: number;
  /** After each new sample. */
  onSample?: (sample: ClockSample, clock: ClockSync) => void;
}

/** The server's clock, measured over `time_sync` acks. */
export class ClockSync {
  readonly now: Now;
  jamId: number | null;
  private readonly socket: JamTransport;
  private readonly timers: Timers;
  private readonly options: Required<Omit<ClockSyncOptions, "now" | "timers" | "jamId" | "onSample">>;
  private readonly onSample: ((sample: ClockSample, clock: ClockSync) => void) | undefined;
  private readonly kept: ClockSample[] = [];
  private best: ClockSample | null = null;
  private count = 0;
  private timer: unknown = null;
  // The loop of the current start() (0: stopped): a sync in flight when stop() came does not
  // re-arm, and a restart does not run two loops.
  private running = 0;
  private generation = 0;
  private waiters: (() => void)[] = [];

  constructor(socket: JamTransport, options: ClockSyncOptions = {}) {
    this.socket = socket;
    this.now = options.now ?? defaultNow;
    this.timers = options.timers ?? defaultTimers;
    this.jamId = options.jamId ?? null;
    this.onSample = options.onSample;
    this.options = {
      samplesKept: options.samplesKept ?? 8,
      fastSamples: options.fastSamples ?? 5,
      fastIntervalMs: options.fastIntervalMs ?? 1000,
      slowIntervalMs: options.slowIntervalMs ?? 10_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 5000,
    };
  }

  /** Server minus yours, ms (0 before the first sample). */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  /** The round trip of the sample in use; null before the first. */
  get rttMs(): number | null {
    return this.best?.delayMs ?? null;
  }

  get synced(): boolean {
    return this.best !== null;
  }

  /** How many samples were taken since the start. */
  get sampleCount(): number {
    return this.count;
  }

  get samples(): readonly ClockSample[] {
    return this.kept;
  }

  /** The server's clock now, Unix ms. */
  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** A moment of the server's clock on yours. */
  toLocal(serverMs: number): number {
    return serverMs - this.offsetMs;
  }

  toServer(localMs: number): number {
    return localMs + this.offsetMs;
  }

  /** Adds one exchange's sample (t3 defaults to now) and keeps the best of the recent ones. */
  addSample(t0: number, t1: number, t2: number, t3: number = this.now()): ClockSample {
    const sample = clockSample(t0, t1, t2, t3);
    this.kept.push(sample);
    if (this.kept.length > this.options.samplesKept) this.kept.shift();
    this.best = bestSample(this.kept);
    this.count += 1;
    this.onSample?.(sample, this);
    for (const resolve of this.waiters.splice(0)) resolve();
    return sample;
  }

  /** One `time_sync`; its sample, or null (not connected, refused, no answer, a stale ack). */
  async syncOnce(): Promise<ClockSample | null> {
    if (this.socket.connected === false) return null;
    const t0 = this.now();
    const request: TimeSyncRequest = { t0 };
    if (this.jamId !== null) request.jam_id = this.jamId;
    const rtt = this.rttMs;
    // The server takes whole ms from 0 to 60000.
    if (rtt !== null) request.rtt_ms = Math.min(60_000, Math.max(0, Math.round(rtt)));
    const answer = await ask(this.socket, this.timers, this.options.ackTimeoutMs, "time_sync", request);
    const t3 = this.now();
    if (!("t1" in answer) || answer.t0 !== t0 || !Number.isFinite(answer.t1) || !Number.isFinite(answer.t2)) {
      return null;
    }
    return this.addSample(t0, answer.t1, answer.t2, t3);
  }

  /** Syncs now, then every second for the first samples, then every ten. */
  start(): void {
    if (this.running !== 0) return;
    const loop = (this.running = this.generation += 1);
    const tick = (): void => {
      this.timer = null;
      void this.syncOnce().finally(() => {
        if (this.running !== loop) return; // stopped meanwhile
        const fast = this.count < this.options.fastSamples;
        this.timer = this.timers.setTimeout(tick, fast ? this.options.fastIntervalMs : this.options.slowIntervalMs);
      });
    };
    tick();
  }

  stop(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.running = 0;
  }

  /** Resolves at the first sample, or after `timeoutMs` (an unmeasured clock beats none). */
  ready(timeoutMs = 3000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => {
      const handle = this.timers.setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        this.timers.clearTimeout(handle);
        resolve();
      });
    });
  }
}

// ---------------------------------------------------------------------------
// JamPlayer
// ---------------------------------------------------------------------------

/** What JamPlayer drives: an HTMLAudioElement fits. */
export interface Player {
  /** Seconds into the loaded item. */
  currentTime: number;
  play(): Promise<void> | void;
  pause(): void;
  readonly paused?: boolean;
  readonly seeking?: boolean;
  /** Seconds; NaN or Infinity while unknown. */
  readonly duration?: number;
}

export interface JamPlayerOptions {
  jamId: number;
  player: Player;
  /**
   * Load an item into the player (set `src` to the rendition you want: the timing is the
   * same for any). Called when playback moves to another item; `item` is undefined for one
   * the last `jam_state` did not list yet.
   */
  load: (itemId: number, item: JamItem | undefined) => void;
  /** A clock of your own (it is then yours to start and stop); else one is made and run. */
  clock?: ClockSync;
  now?: Now;
  timers?: Timers;
  driftLimitMs?: number;
  /** How often the position is compared with the room's (500 ms). */
  driftCheckMs?: number;
  /** A `waiting` that lasts this long is reported as buffering (500 ms): a seek's short wait is not. */
  bufferingAfterMs?: number;
  /** A start later than this (a timer firing late) is made up by a seek (30 ms). */
  lateStartMs?: number;
  ackTimeoutMs?: number;
  onState?: (state: JamState) => void;
  onCommand?: (command: JamCommand) => void;
  onClosed?: (closed: JamClosed) => void;
  onError?: (error: JamError) => void;
}

type Playback = Pick<JamNow, "item_id" | "position_ms" | "playing" | "at_server_ms" | "seq">;

/** Plays a Jam in time on a `Player`: applies the room's commands, corrects drift, reports. */
export class JamPlayer {
  readonly jamId: number;
  readonly clock: ClockSync;
  /** Seeks made to correct drift. */
  corrections = 0;
  private readonly socket: JamTransport;
  private readonly player: Player;
  private readonly load: (itemId: number, item: JamItem | undefined) => void;
  private readonly timers: Timers;
  private readonly ownClock: boolean;
  private readonly settings: Required<
    Pick<JamPlayerOptions, "driftLimitMs" | "driftCheckMs" | "bufferingAfterMs" | "lateStartMs" | "ackTimeoutMs">
  >;
  private readonly hooks: Pick<JamPlayerOptions, "onState" | "onCommand" | "onClosed" | "onError">;
  private jam: JamState | null = null;
  private playback: Playback | null = null;
  private loadedItemId: number | null = null;
  private scheduled: unknown = null;
  private driftTimer: unknown = null;
  private bufferingTimer: unknown = null;
  private buffering = false;
  private reportedBuffering = false;
  private endedSeq: number | null = null;
  private closed = false;

  constructor(socket: JamTransport, options: JamPlayerOptions) {
    this.socket = socket;
    this.jamId = options.jamId;
    this.player = options.player;
    this.load = options.load;
    this.timers = options.timers ?? defaultTimers;
    this.ownClock = options.clock === undefined;
    this.clock = options.clock ?? new ClockSync(socket, { now: options.now, timers: this.timers, jamId: options.jamId });
    this.settings = {
      driftLimitMs: options.driftLimitMs ?? DRIFT_LIMIT_MS,
      driftCheckMs: options.driftCheckMs ?? 500,
      bufferingAfterMs: options.bufferingAfterMs ?? 500,
      lateStartMs: options.lateStartMs ?? 30,
      ackTimeoutMs: options.ackTimeoutMs ?? 5000,
    };
    this.hooks = { onState: options.onState, onCommand: options.onCommand, onClosed: options.onClosed, onError: options.onError };
    socket.on("jam_state", this.handleState);
    socket.on("jam_command", this.handleCommand);
    socket.on("jam_closed", this.handleClosed);
    socket.on("jam_error", this.handleError);
  }

  /** The last `jam_state` (or the join's). */
  get state(): JamState | null {
    return this.jam;
  }

  /** The playback applied last: the latest command, or the state's `now`. */
  get now(): Playback | null {
    return this.playback;
  }

  /** Where the room is now, ms into its item. */
  expectedPositionMs(): number {
    return this.playback ? expectedPositionMs(this.playback, this.clock.serverNow()) : 0;
  }

  /**
   * Starts the clock (when it is ours), waits for its first sample (at most 3 s), joins the
   * room and plays from where it is: mid-song, at `position_ms + (now - at_server_ms)`.
   * Call it again on the socket's `connect` after a reconnection: a new socket is in no room.
   */
  async join(): Promise<JamAck<{ state: JamState }>> {
    this.clock.jamId = this.jamId;
    if (this.ownClock) this.clock.start();
    await this.clock.ready();
    const answer = await this.ask("jam_join", { jam_id: this.jamId });
    if (answer.ok && !this.closed) {
      this.handleState(answer.state);
      this.checkDriftLater();
    }
    return answer;
  }

  /** Stops this socket's Jam events (the membership stays) and this player. */
  async leave(): Promise<JamAck> {
    const answer = await this.ask("jam_leave", { jam_id: this.jamId });
    this.destroy();
    return answer;
  }

  /** Stops timers and listeners; pauses the player. The socket stays open. */
  destroy(): void {
    this.closed = true;
    this.cancelScheduled();
    for (const timer of [this.driftTimer, this.bufferingTimer]) if (timer !== null) this.timers.clearTimeout(timer);
    this.driftTimer = this.bufferingTimer = null;
    if (this.ownClock) this.clock.stop();
    this.socket.off("jam_state", this.handleState);
    this.socket.off("jam_command", this.handleCommand);
    this.socket.off("jam_closed", this.handleClosed);
    this.socket.off("jam_error", this.handleError);
    this.player.pause();
  }

  command(action: "seek", options: { position_ms: number }): Promise<JamAck<{ command: JamCommand }>>;
  command(action: "jump", options: { item_id: number }): Promise<JamAck<{ command: JamCommand }>>;
  command(action: "play" | "pause", options?: { position_ms?: number }): Promise<JamAck<{ command: JamCommand }>>;
  command(action: "next" | "previous"): Promise<JamAck<{ command: JamCommand }>>;
  /** Asks the room for an action; it is applied when its `jam_command` comes, as everyone's. */
  command(action: JamAction, options: { position_ms?: number; item_id?: number } = {}): Promise<JamAck<{ command: JamCommand }>> {
    const request = { jam_id: this.jamId, action, ...options } as JamCommandRequest;
    return this.ask("jam_command", request);
  }

  queueAdd(source: JamQueueSource): Promise<JamAck> {
    return this.ask("jam_queue_add", { jam_id: this.jamId, ...source });
  }

  queueRemove(itemId: number): Promise<JamAck> {
    return this.ask("jam_queue_remove", { jam_id: this.jamId, item_id: itemId });
  }

  queueMove(itemId: number, position: number): Promise<JamAck> {
    return this.ask("jam_queue_move", { jam_id: this.jamId, item_id: itemId, position });
  }

  /** Wire to the player's `waiting`: reported as `jam_buffering` if it lasts. */
  onWaiting(): void {
    this.buffering = true;
    if (this.bufferingTimer !== null) this.timers.clearTimeout(this.bufferingTimer);
    this.bufferingTimer = this.timers.setTimeout(() => {
      this.bufferingTimer = null;
      // Only a playing room is held for a member: a paused one waits for nobody.
      if (this.closed || !this.buffering || this.reportedBuffering || !this.started()) return;
      this.reportedBuffering = true;
      void this.ask("jam_buffering", { jam_id: this.jamId });
    }, this.settings.bufferingAfterMs);
  }

  /** Wire to the player's `canplay` (and `playing`): ends a reported buffering with `jam_ready`. */
  onReady(): void {
    this.buffering = false;
    if (this.bufferingTimer !== null) this.timers.clearTimeout(this.bufferingTimer);
    this.bufferingTimer = null;
    if (this.reportedBuffering && !this.closed) {
      this.reportedBuffering = false;
      void this.ask("jam_ready", { jam_id: this.jamId });
    }
  }

  /** Wire to the player's `ended`: reports the item's end once (the first report moves the room on). */
  onEnded(): void {
    const now = this.playback;
    if (this.closed || !now || !now.playing || now.item_id === null || this.endedSeq === now.seq) return;
    this.endedSeq = now.seq;
    void this.ask("jam_ended", { jam_id: this.jamId, item_id: now.item_id });
  }

  /** Compares the position with the room's, and seeks past the limit; true when it sought. */
  checkDrift(): boolean {
    const now = this.playback;
    if (this.closed || !now || !this.started() || this.scheduled !== null || this.buffering) return false;
    if (this.player.paused === true || this.player.seeking === true) return false;
    const target = expectedPositionMs(now, this.clock.serverNow());
    const duration = (this.player.duration ?? Number.NaN) * 1000;
    if (Number.isFinite(duration) && target >= duration) return false; // past its end: `ended` moves on
    if (!shouldSeek(driftMs(this.player.currentTime * 1000, target), this.settings.driftLimitMs)) return false;
    this.corrections += 1;
    this.player.currentTime = target / 1000;
    return true;
  }

  // --- applying the room's playback -----------------------------------------------------

  private readonly handleState = (state: JamState): void => {
    if (this.closed || state.id !== this.jamId) return;
    this.jam = state;
    this.hooks.onState?.(state);
    this.apply(state.now);
  };

  private readonly handleCommand = (command: JamCommand): void => {
    if (this.closed || command.jam_id !== this.jamId) return;
    this.hooks.onCommand?.(command);
    this.apply(command);
  };

  private readonly handleClosed = (closed: JamClosed): void => {
    if (closed.jam_id !== this.jamId) return;
    this.destroy();
    this.hooks.onClosed?.(closed);
  };

  private readonly handleError = (error: JamError): void => {
    if (!this.closed) this.hooks.onError?.(error);
  };

  private apply(now: Playback): void {
    if (!isNewer(now.seq, this.playback?.seq ?? null)) return;
    const { item_id, position_ms, playing, at_server_ms, seq } = now;
    this.playback = { item_id, position_ms, playing, at_server_ms, seq };
    this.cancelScheduled();
    if (now.item_id === null) {
      this.player.pause();
      return;
    }
    if (now.item_id !== this.loadedItemId) {
      this.loadedItemId = now.item_id;
      this.load(now.item_id, this.jam?.queue.find((item) => item.id === now.item_id));
    }
    const wait = startDelayMs(now.at_server_ms, this.clock.serverNow());
    if (now.playing) {
      if (wait > 0) {
        // Ready at the position, silent, until the moment.
        this.player.pause();
        this.player.currentTime = now.position_ms / 1000;
        this.scheduled = this.timers.setTimeout(() => this.start(), wait);
      } else {
        this.start();
      }
    } else {
      const stop = (): void => {
        this.scheduled = null;
        this.player.pause();
        this.player.currentTime = now.position_ms / 1000;
      };
      if (wait > 0) this.scheduled = this.timers.setTimeout(stop, wait);
      else stop();
    }
  }

  /** Plays from where the room is now: the command's position, plus however late we are. */
  private start(): void {
    this.scheduled = null;
    const now = this.playback;
    if (this.closed || !now) return;
    const target = expectedPositionMs(now, this.clock.serverNow());
    if (Math.abs(this.player.currentTime * 1000 - target) > this.settings.lateStartMs) {
      this.player.currentTime = target / 1000;
    }
    const started = this.player.play();
    // A refused play (autoplay rules) is the app's to show; the room goes on.
    if (started instanceof Promise) started.catch(() => undefined);
  }

  private started(): boolean {
    const now = this.playback;
    return Boolean(now && now.playing && this.clock.serverNow() >= now.at_server_ms);
  }

  private cancelScheduled(): void {
    if (this.scheduled !== null) this.timers.clearTimeout(this.scheduled);
    this.scheduled = null;
  }

  private checkDriftLater(): void {
    if (this.closed || this.driftTimer !== null) return;
    this.driftTimer = this.timers.setTimeout(() => {
      this.driftTimer = null;
      this.checkDrift();
      this.checkDriftLater();
    }, this.settings.driftCheckMs);
  }

  private ask<Event extends keyof JamClientToServerEvents>(
    event: Event,
    payload: Payload<Event>,
  ): Promise<Answer<Event> | JamRefusal> {
    return ask(this.socket, this.timers, this.settings.ackTimeoutMs, event, payload);
  }
}
