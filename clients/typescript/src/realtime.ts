/**
 * Typed Socket.IO chat and presence (API.md, "Real time: Socket.IO at /socket.io/").
 *
 *   const socket = connectRealtime("http://localhost:8000", { token: async () => (await api.tokens())?.access ?? null });
 *   socket.on("receive_message", (message) => console.log(message.sender_id, message.content));
 *   socket.emit("send_message", { receiver_id: 2, content: "Hello" });
 *
 * The event names and payloads below are those of messaging/realtime/events.py; a wrong
 * event name or payload field does not compile.
 */
import { io } from "socket.io-client";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import type { components } from "../schema.js";

/** A message as `GET /api/messages/` and `POST /api/messages/` render it. */
export type Message = components["schemas"]["MessageOut"];

/** Why the server asks a socket to re-fetch what it shows (pushes may have been lost). */
export type ResyncReason = "delivery_interrupted" | "push_failed";

/**
 * The state of the users whose presence or activity changed since the last `presence` frame:
 * set each `online` user online with that activity, remove each `offline` one.
 */
export interface PresenceChanges {
  online: [userId: number, activity: string][];
  offline: number[];
}

/** Events the server sends. */
export interface ServerToClientEvents {
  /** To a new socket right after it connects: every online user id, sorted, yourself included. */
  users_online: (userIds: number[]) => void;
  /**
   * To a new socket right after `users_online` (and, with the server's legacy presence
   * events on, to everyone after someone came online): every online user's activity, as
   * `[user_id, activity]` pairs sorted by user id.
   */
  activities: (activities: [userId: number, activity: string][]) => void;
  /**
   * To everyone, at most once a batch window (0.1 s by default): who came, left or changed
   * activity since the last frame, as their state now. Apply it on top of `users_online`
   * and `activities`.
   */
  presence: (changes: PresenceChanges) => void;
  /** Legacy presence event (while the server sends them): a user's first socket connected. */
  user_connected: (userId: number) => void;
  /** Legacy presence event: a user's last socket went away. */
  user_disconnected: (userId: number) => void;
  /** Legacy presence event: a user's new activity. */
  activity_updated: (update: { user_id: number; activity: string }) => void;
  /** To the receiver's sockets: a message sent to them (over Socket.IO or REST). */
  receive_message: (message: Message) => void;
  /** To the sender's sockets: their message was stored. */
  message_sent: (message: Message) => void;
  /** To the socket whose `send_message` failed: nothing was stored. */
  message_error: (error: { detail: string }) => void;
  /**
   * Pushes may have been lost: re-fetch `GET /api/messages/` and open conversations. After
   * `delivery_interrupted`, fresh `users_online` and `activities` follow.
   */
  resync: (info: { reason: ResyncReason }) => void;
}

/** Events the client sends. The user is always the token's, never a payload field. */
export interface ClientToServerEvents {
  /** Show an activity to everyone, e.g. "Playing So What by Miles Davis" or "Idle" (1 to 200 characters). */
  update_activity: (activity: { activity: string }) => void;
  /** Send a message, stored exactly as `POST /api/messages/` (content 1 to 2000 characters). */
  send_message: (message: { receiver_id: number; content: string }) => void;
}

/** A socket that knows the events of both directions. */
export type RealtimeSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The access JWT, or a function giving the current one (called at every connect and reconnect). */
export type AccessToken = string | (() => string | null | Promise<string | null>);

export interface RealtimeOptions extends Partial<Omit<ManagerOptions & SocketOptions, "auth">> {
  /**
   * The access token the server checks at connect time. Pass a function (e.g.
   * `async () => (await api.tokens())?.access ?? null`) so that a reconnection after the
   * token was refreshed sends the new one; a string is sent as is every time.
   */
  token: AccessToken;
}

/**
 * Connects to the server's Socket.IO endpoint with `auth: {token}`. `baseUrl` is the
 * server's origin, e.g. "http://localhost:8000"; "" means the page's own. A missing or
 * refused token ends in `connect_error` with the server's sentence as `error.message`.
 * Other options go to socket.io-client (`reconnection`, `transports`, `autoConnect`, ...).
 */
export function connectRealtime(baseUrl: string, options: RealtimeOptions): RealtimeSocket {
  const { token, ...rest } = options;
  const auth =
    typeof token === "string"
      ? { token }
      : (send: (data: object) => void) => {
          Promise.resolve()
            .then(token)
            .then(
              (value) => send(value ? { token: value } : {}),
              () => send({}),
            );
        };
  const settings = { ...rest, auth };
  return baseUrl === "" ? io(settings) : io(baseUrl, settings);
}
