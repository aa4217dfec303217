/*
 * The demo page of Jams (/jam/): sign in, start or join a Jam, play it in sync.
 *
 * The protocol is docs/API.md, section 7 "Jams (listening together)" and section 8 "Jam:
 * listening together". Plain JavaScript (ES2020), no build step; the Socket.IO client is the
 * vendored browser build (vendor/socket.io.min.js, the global `io`).
 *
 * Timing, as the contract says:
 * - clock: `time_sync` acks carry t0 (ours), t1 and t2 (the server's); t3 is ours on receipt.
 *   delay = (t3 - t0) - (t2 - t1), offset = ((t1 - t0) + (t2 - t3)) / 2 (server minus ours).
 *   The offset of the lowest-delay sample of the last eight is kept; a sync every second at
 *   first, then every ten.
 * - a command `{item_id, position_ms, playing, at_server_ms}` is applied at our clock's
 *   `at_server_ms - offset`; if that moment has passed, playback starts at
 *   `position_ms + (server now - at_server_ms)`.
 * - drift is corrected by seeking when the position is more than 250 ms off, never by
 *   changing the playback rate.
 */
"use strict";

(() => {
  const SAMPLES_KEPT = 8;
  const FAST_SYNCS = 8;
  const FAST_SYNC_MS = 1000;
  const SLOW_SYNC_MS = 10000;
  const ACK_TIMEOUT_MS = 5000;
  const DRIFT_LIMIT_MS = 250;
  const DRIFT_CHECK_MS = 500;
  // A start this much late (a timer fires late, data came late) is made up by a seek.
  const LATE_START_MS = 30;
  // A `waiting` that lasts this long is real buffering, reported to the room (a seek's
  // short wait is not).
  const BUFFERING_AFTER_MS = 500;
  const CLOCK_WAIT_MS = 3000;
  // How long after play() this browser's position starts to move (its audio pipeline): learnt
  // from the starts made on time, then play() is called that much early.
  const START_LATENCY_MAX_MS = 500;
  const START_MEASURE_AFTER_MS = 400;
  const HAVE_METADATA = 1;
  const HAVE_FUTURE_DATA = 3;

  const $ = (id) => document.getElementById(id);
  const audio = $("player");

  const clientNow = () => performance.timeOrigin + performance.now();

  const session = { access: null, refresh: null, user: null };
  const clock = { offsetMs: 0, delayMs: null, samples: [], syncs: 0 };
  const room = {
    jam: null, // the JamOut / JamState last received
    now: null, // the playback applied: {item_id, position_ms, playing, at_server_ms, seq}
    joined: false,
    loadedSrc: null,
    loadedItemId: null,
    pendingSeekMs: null, // a seek asked before the audio's metadata arrived
    reportedBuffering: false,
    endedReported: null,
    corrections: 0,
  };
  let lastCommand = null;
  let startLatencyMs = 0;
  let startLatencyMeasured = false;
  let measuring = null; // the seq of the start whose latency is to be measured
  let socket = null;
  let syncTimer = null;
  let scheduled = null;
  let bufferingTimer = null;
  let refreshing = null;
  let reconnecting = false;
  let clockReady = null;
  let resolveClockReady = null;

  const serverNow = () => clientNow() + clock.offsetMs;

  // --- Messages ----------------------------------------------------------------------------

  function say(text) {
    $("status").textContent = text;
  }

  function showError(text) {
    const box = $("error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function detailOf(status, body) {
    const detail = body && body.detail;
    if (Array.isArray(detail)) {
      return detail.map((item) => item.msg).join(" ");
    }
    return typeof detail === "string" ? detail : `The server answered ${status}.`;
  }

  // --- REST --------------------------------------------------------------------------------

  async function refreshTokens() {
    // One refresh in flight at a time, shared by every call that got a 401 (docs/API.md 2).
    if (!session.refresh) return false;
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const response = await fetch("/api/auth/token/refresh/", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({ refresh: session.refresh }),
          });
          if (!response.ok) return false;
          const pair = await response.json();
          session.access = pair.access;
          session.refresh = pair.refresh;
          return true;
        } catch {
          return false;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  }

  async function api(method, path, body, retried = false) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session.access) headers.Authorization = `Bearer ${session.access}`;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && session.refresh && !retried) {
      if (await refreshTokens()) return api(method, path, body, true);
      signedOut("Your session has ended: sign in again.");
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, detailOf(response.status, data));
    return data;
  }

  // --- Clock -------------------------------------------------------------------------------

  function resetClock() {
    clock.offsetMs = 0;
    clock.delayMs = null;
    clock.samples = [];
    clock.syncs = 0;
    clockReady = new Promise((resolve) => {
      resolveClockReady = resolve;
    });
  }

  function syncOnce() {
    if (!socket || !socket.connected) return;
    const t0 = clientNow();
    const payload = { t0 };
    if (room.jam) payload.jam_id = room.jam.id;
    if (clock.delayMs !== null) payload.rtt_ms = Math.min(60000, Math.round(clock.delayMs));
    socket.timeout(ACK_TIMEOUT_MS).emit("time_sync", payload, (error, answer) => {
      const t3 = clientNow();
      if (error || !answer || typeof answer.t1 !== "number" || answer.t0 !== t0) return;
      const delay = t3 - t0 - (answer.t2 - answer.t1);
      const offset = (answer.t1 - t0 + (answer.t2 - t3)) / 2;
      clock.samples.push({ delay: Math.max(0, delay), offset });
      if (clock.samples.length > SAMPLES_KEPT) clock.samples.shift();
      const best = clock.samples.reduce((a, b) => (b.delay < a.delay ? b : a));
      clock.offsetMs = best.offset;
      clock.delayMs = best.delay;
      clock.syncs += 1;
      $("offset").textContent =
        `${clock.offsetMs.toFixed(1)} ms (round trip ${clock.delayMs.toFixed(1)} ms)`;
      resolveClockReady();
    });
  }

  function startClockSync() {
    clearTimeout(syncTimer);
    const tick = () => {
      syncOnce();
      syncTimer = setTimeout(tick, clock.syncs < FAST_SYNCS ? FAST_SYNC_MS : SLOW_SYNC_MS);
    };
    tick();
  }

  function stopClockSync() {
    clearTimeout(syncTimer);
    syncTimer = null;
  }

  function clockMeasured() {
    // The first sample, or a bounded wait: an unmeasured clock is better than none.
    return Promise.race([clockReady, new Promise((resolve) => setTimeout(resolve, CLOCK_WAIT_MS))]);
  }

  // --- Socket.IO ---------------------------------------------------------------------------

  function connectSocket() {
    if (socket) return;
    resetClock();
    // `auth` as a function: a reconnection sends the access token of the moment.
    socket = window.io({ auth: (send) => send({ token: session.access }) });
    socket.on("connect", () => {
      reconnecting = false;
      say(room.jam ? "Connected." : "Connected. Start a Jam or join one.");
      startClockSync();
      if (room.jam) joinRoom();
    });
    socket.on("disconnect", () => {
      room.joined = false;
      stopClockSync();
      if (session.access) say("Connection lost; reconnecting…");
    });
    socket.on("connect_error", async (error) => {
      if (!socket) return;
      if (socket.active) {
        say(`Could not connect (${error.message}); trying again…`);
        return;
      }
      // A refusal by the server (an access token that expired): the client does not retry it
      // by itself. Once more with a fresh token.
      if (!reconnecting && (await refreshTokens())) {
        reconnecting = true;
        socket.connect();
        return;
      }
      showError(error.message);
    });
    socket.on("jam_state", onState);
    socket.on("jam_command", onCommand);
    socket.on("jam_closed", onClosed);
    socket.on("jam_error", (error) => showError(error.detail));
  }

  function disconnectSocket() {
    stopClockSync();
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    socket = null;
  }

  function emit(event, payload) {
    // The ack, or {ok: false} when none came in time.
    return new Promise((resolve) => {
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: { code: "unavailable", detail: "Not connected." } });
        return;
      }
      socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (error, ack) => {
        if (error) {
          resolve({ ok: false, error: { code: "unavailable", detail: "The server did not answer." } });
        } else {
          resolve(ack || { ok: false, error: { code: "invalid", detail: "No answer." } });
        }
      });
    });
  }

  async function joinRoom() {
    const jamId = room.jam.id;
    await clockMeasured();
    if (!room.jam || room.jam.id !== jamId) return;
    const ack = await emit("jam_join", { jam_id: jamId });
    if (!ack.ok) {
      showError(ack.error.detail);
      return;
    }
    room.joined = true;
    say("In the Jam.");
    onState(ack.state);
  }

  // --- The room ----------------------------------------------------------------------------

  function queueItem(itemId) {
    return (room.jam && room.jam.queue.find((item) => item.id === itemId)) || null;
  }

  function myRole() {
    const me = room.jam && room.jam.members.find((member) => member.id === session.user.id);
    return me ? me.role : null;
  }

  function mayControl() {
    const role = myRole();
    return role === "host" || role === "cohost" || (role === "guest" && room.jam.guests_can_control);
  }

  function onState(state) {
    if (!state || !room.jam || state.id !== room.jam.id) return;
    room.jam = state;
    render();
    applyNow(state.now);
  }

  function onCommand(command) {
    if (!room.jam || command.jam_id !== room.jam.id) return;
    lastCommand = command;
    if (command.item_id !== null && !queueItem(command.item_id)) {
      // An item this page has not heard of yet: read the room again, then play it.
      api("GET", `/api/jams/${room.jam.id}/`)
        .then((jam) => {
          room.jam = jam;
          render();
          applyNow(command);
        })
        .catch((error) => showError(error.message));
      return;
    }
    applyNow(command);
  }

  function onClosed(closed) {
    if (!room.jam || closed.jam_id !== room.jam.id) return;
    const why = {
      closed: "The host closed the Jam.",
      host_left: "The host left: the Jam is closed.",
      idle: "The Jam closed after a while with nobody in it.",
      removed: "The host removed you from the Jam.",
    };
    leftRoom(why[closed.reason] || "The Jam is closed.");
  }

  function leftRoom(message) {
    cancelScheduled();
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    room.jam = null;
    room.now = null;
    room.joined = false;
    room.loadedSrc = null;
    room.loadedItemId = null;
    room.pendingSeekMs = null;
    lastCommand = null;
    history.replaceState(null, "", location.pathname);
    show("lobby");
    say(message);
  }

  async function enterJam(jam) {
    room.jam = jam;
    room.now = null;
    history.replaceState(null, "", `${location.pathname}?code=${encodeURIComponent(jam.code)}`);
    render();
    show("room");
    say("Joining the room…");
    if (socket && socket.connected) await joinRoom();
  }

  // --- Playback ----------------------------------------------------------------------------

  function streamUrl(song) {
    const wanted = $("format").value;
    const rendition = wanted !== "original" && (song.formats || []).includes(wanted);
    return `/api/songs/${song.id}/stream/${rendition ? `?format=${wanted}` : ""}`;
  }

  function expectedMs(now = room.now) {
    // Where the room is now, in ms into its item.
    if (!now) return 0;
    if (!now.playing) return now.position_ms;
    return now.position_ms + Math.max(0, serverNow() - now.at_server_ms);
  }

  function started(now = room.now) {
    return Boolean(now && now.playing && serverNow() >= now.at_server_ms);
  }

  function cancelScheduled() {
    clearTimeout(scheduled);
    scheduled = null;
  }

  function seekTo(ms) {
    if (audio.readyState < HAVE_METADATA) {
      room.pendingSeekMs = ms; // applied on `loadedmetadata`
      return;
    }
    room.pendingSeekMs = null;
    audio.currentTime = ms / 1000;
  }

  function load(item) {
    const src = streamUrl(item.song);
    if (room.loadedSrc === src && room.loadedItemId === item.id) return;
    room.loadedSrc = src;
    room.loadedItemId = item.id;
    room.pendingSeekMs = null;
    audio.src = src;
    audio.load();
  }

  function play() {
    audio.play().catch((error) => {
      if (error.name === "NotAllowedError") {
        showError("The browser blocked the sound: click anywhere on the page to let it play.");
      }
    });
  }

  function startNow() {
    // At the command's moment less this browser's start latency, or later: then at the
    // position the room will have reached once the sound moves.
    scheduled = null;
    const target = started() ? expectedMs() + startLatencyMs : expectedMs();
    if (audio.readyState < HAVE_METADATA || Math.abs(audio.currentTime * 1000 - target) > LATE_START_MS) {
      seekTo(target);
    }
    measuring = room.now ? room.now.seq : null;
    play();
  }

  function measureStartLatency() {
    // Some time after a start: how far behind the room the position still is.
    const seq = measuring;
    measuring = null;
    const now = room.now;
    if (seq === null || !now || now.seq !== seq || !started(now) || audio.paused || audio.seeking) return;
    const behind = expectedMs(now) - audio.currentTime * 1000;
    const latency = Math.min(START_LATENCY_MAX_MS, Math.max(0, startLatencyMs + behind));
    startLatencyMs = startLatencyMeasured ? (startLatencyMs + latency) / 2 : latency;
    startLatencyMeasured = true;
  }

  function applyNow(now, force = false) {
    if (!now) return;
    if (room.now && !force && now.seq <= room.now.seq) return; // a later seq replaces an earlier one
    room.now = {
      item_id: now.item_id,
      position_ms: now.position_ms,
      playing: now.playing,
      at_server_ms: now.at_server_ms,
      seq: now.seq,
    };
    room.endedReported = null;
    cancelScheduled();
    renderNow();
    const item = queueItem(now.item_id);
    if (!item) {
      audio.pause();
      return;
    }
    load(item);
    const wait = now.at_server_ms - clock.offsetMs - clientNow();
    if (now.playing) {
      if (wait > 0) {
        // Ready at the start, then play at the moment.
        audio.pause();
        if (audio.readyState < HAVE_METADATA || Math.abs(audio.currentTime * 1000 - now.position_ms) > 5) {
          seekTo(now.position_ms);
        }
        scheduled = setTimeout(startNow, Math.max(0, wait - startLatencyMs));
      } else {
        startNow(); // late: at the position the room has reached
      }
    } else {
      const stop = () => {
        scheduled = null;
        audio.pause();
        seekTo(now.position_ms);
      };
      if (wait > 0) scheduled = setTimeout(stop, wait);
      else stop();
    }
  }

  function correctDrift() {
    renderPosition();
    const now = room.now;
    if (!now || !now.playing || !started(now) || scheduled) return;
    if (audio.readyState < HAVE_FUTURE_DATA || audio.seeking || audio.paused) return;
    const target = expectedMs(now);
    const duration = audio.duration * 1000;
    if (Number.isFinite(duration) && target >= duration) return; // the room is past its end
    if (Math.abs(audio.currentTime * 1000 - target) > DRIFT_LIMIT_MS) {
      room.corrections += 1;
      seekTo(target);
    }
  }

  function reportEnded() {
    const now = room.now;
    if (!room.jam || !now || !now.playing || room.endedReported === now.seq) return;
    room.endedReported = now.seq;
    emit("jam_ended", { jam_id: room.jam.id, item_id: now.item_id });
  }

  audio.addEventListener("loadedmetadata", () => {
    if (started()) {
      audio.currentTime = expectedMs() / 1000;
    } else if (room.pendingSeekMs !== null) {
      audio.currentTime = room.pendingSeekMs / 1000;
    }
    room.pendingSeekMs = null;
    renderPosition();
  });
  audio.addEventListener("waiting", () => {
    clearTimeout(bufferingTimer);
    if (!room.jam || !started()) return;
    bufferingTimer = setTimeout(() => {
      if (room.jam && started() && audio.readyState < HAVE_FUTURE_DATA && !room.reportedBuffering) {
        room.reportedBuffering = true;
        emit("jam_buffering", { jam_id: room.jam.id });
      }
    }, BUFFERING_AFTER_MS);
  });
  const ready = () => {
    clearTimeout(bufferingTimer);
    if (room.jam && room.reportedBuffering) {
      room.reportedBuffering = false;
      emit("jam_ready", { jam_id: room.jam.id });
    }
  };
  audio.addEventListener("canplay", ready);
  audio.addEventListener("playing", ready);
  audio.addEventListener("playing", () => {
    if (measuring !== null) setTimeout(measureStartLatency, START_MEASURE_AFTER_MS);
  });
  audio.addEventListener("ended", reportEnded);
  audio.addEventListener("timeupdate", renderPosition);
  audio.addEventListener("durationchange", renderPosition);
  setInterval(correctDrift, DRIFT_CHECK_MS);

  // --- Commands ----------------------------------------------------------------------------

  async function command(action, extra = {}) {
    if (!room.jam) return;
    showError("");
    const ack = await emit("jam_command", { jam_id: room.jam.id, action, ...extra });
    if (!ack.ok) showError(ack.error.detail);
  }

  function seekBy(deltaMs) {
    const duration = audio.duration * 1000;
    let target = Math.max(0, expectedMs() + deltaMs);
    if (Number.isFinite(duration)) target = Math.min(target, Math.max(0, duration - 1000));
    command("seek", { position_ms: Math.round(target) });
  }

  $("play").addEventListener("click", () => command("play"));
  $("pause").addEventListener("click", () => command("pause"));
  $("next").addEventListener("click", () => command("next"));
  $("previous").addEventListener("click", () => command("previous"));
  $("back").addEventListener("click", () => seekBy(-10000));
  $("forward").addEventListener("click", () => seekBy(10000));
  $("seek-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number($("seek-to").value);
    if (Number.isFinite(seconds) && seconds >= 0) {
      command("seek", { position_ms: Math.round(seconds * 1000) });
    }
  });
  $("format").addEventListener("change", () => {
    // Another rendition of the same item, at the room's position: the timing is the same.
    room.loadedSrc = null;
    if (room.now) applyNow(room.now, true);
  });
  $("queue").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-item]");
    if (button) command("jump", { item_id: Number(button.dataset.item) });
  });
  // Any click lets a page whose sound was blocked play (the browser's autoplay rule).
  document.addEventListener("click", () => {
    if (room.now && room.now.playing && audio.paused && !audio.ended && started() && !scheduled) {
      startNow();
    }
  });

  // --- Rendering ---------------------------------------------------------------------------

  function show(part) {
    $("sign-in").hidden = part !== "sign-in";
    $("lobby").hidden = part !== "lobby";
    $("room").hidden = part !== "room";
  }

  function clockText(seconds) {
    if (!Number.isFinite(seconds)) return "0:00";
    const whole = Math.max(0, Math.floor(seconds));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }

  function renderPosition() {
    $("position").textContent = clockText(audio.currentTime);
    $("duration").textContent = clockText(audio.duration);
  }

  function renderNow() {
    const now = room.now;
    const item = now && queueItem(now.item_id);
    $("now-playing").textContent = item
      ? `${item.song.title} — ${item.song.artist} (${now.playing ? "playing" : "paused"})`
      : "Nothing: the queue is empty.";
    for (const li of $("queue").children) {
      li.setAttribute("aria-current", String(Boolean(item) && Number(li.dataset.item) === item.id));
    }
  }

  function render() {
    const jam = room.jam;
    if (!jam) return;
    $("jam-code").textContent = jam.code;
    const link = $("join-url");
    // Absolute over REST, relative in Socket.IO's `jam_state` (no request there).
    link.href = new URL(jam.join_url, location.href).href;
    link.textContent = link.href;

    const canControl = mayControl();
    for (const id of ["play", "pause", "next", "previous", "back", "forward"]) {
      $(id).disabled = !canControl;
    }
    $("seek-form").querySelector("button").disabled = !canControl;
    $("control-note").hidden = canControl;

    const members = $("members");
    members.replaceChildren(
      ...jam.members.map((member) => {
        const li = document.createElement("li");
        li.textContent = member.full_name;
        const role = document.createElement("span");
        role.className = "role";
        const you = member.id === session.user.id ? ", you" : "";
        role.textContent = ` (${member.role}${you})`;
        li.append(role);
        return li;
      }),
    );

    const queue = $("queue");
    queue.replaceChildren(
      ...jam.queue.map((item) => {
        const li = document.createElement("li");
        li.dataset.item = String(item.id);
        li.append(`${item.song.title} — ${item.song.artist}`);
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = item.added_by ? ` added by ${item.added_by.full_name}` : "";
        li.append(who);
        if (canControl) {
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.item = String(item.id);
          button.textContent = "Play";
          button.setAttribute("aria-label", `Play ${item.song.title} now`);
          li.append(button);
        }
        return li;
      }),
    );
    renderNow();
  }

  // --- Signing in, starting, joining -------------------------------------------------------

  function signedOut(message) {
    disconnectSocket();
    if (room.jam) leftRoom(message);
    session.access = session.refresh = session.user = null;
    show("sign-in");
    say(message);
  }

  async function loadAlbums() {
    try {
      const page = await api("GET", "/api/albums/?limit=50");
      const select = $("source");
      select.replaceChildren(select.options[0]);
      for (const album of page.items) {
        const option = document.createElement("option");
        option.value = String(album.id);
        option.textContent = `Album: ${album.title} — ${album.artist}`;
        select.append(option);
      }
    } catch {
      // The catalog's first songs are always there to start from.
    }
  }

  async function afterSignIn() {
    $("me").textContent = `${session.user.full_name} (${session.user.email})`;
    connectSocket();
    loadAlbums();
    const code = new URLSearchParams(location.search).get("code");
    if (code) $("code").value = code;
    let current = null;
    try {
      current = await api("GET", "/api/jams/current/");
    } catch (error) {
      if (error.status !== 404) throw error;
    }
    const wanted = code ? code.replace(/\s+/g, "").toUpperCase() : null;
    if (current && (!wanted || current.code === wanted)) {
      await enterJam(current);
    } else if (wanted) {
      show("lobby");
      await join(wanted);
    } else {
      show("lobby");
      say("Signed in. Start a Jam or join one.");
    }
  }

  async function join(code) {
    showError("");
    say("Joining…");
    try {
      await enterJam(await api("POST", "/api/jams/join/", { code }));
    } catch (error) {
      say("Not in a Jam.");
      showError(error.message);
    }
  }

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    say("Signing in…");
    try {
      const answer = await api("POST", "/api/auth/login/", {
        email: $("email").value,
        password: $("password").value,
      });
      session.access = answer.access;
      session.refresh = answer.refresh;
      session.user = answer.user;
    } catch (error) {
      say("Not signed in.");
      showError(error.message);
      return;
    }
    $("password").value = "";
    try {
      await afterSignIn();
    } catch (error) {
      show("lobby");
      showError(error.message);
    }
  });

  $("sign-out").addEventListener("click", async () => {
    const refresh = session.refresh;
    try {
      if (refresh) await api("POST", "/api/auth/logout/", { refresh });
    } catch {
      // Signed out here either way.
    }
    signedOut("Signed out.");
  });

  $("start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    say("Starting a Jam…");
    try {
      const body = { guests_can_control: $("guests-can-control").checked };
      const source = $("source").value;
      if (source === "catalog") {
        const page = await api("GET", "/api/songs/?limit=20");
        if (page.items.length) body.song_ids = page.items.map((song) => song.id);
      } else {
        body.album_id = Number(source);
      }
      await enterJam(await api("POST", "/api/jams/", body));
    } catch (error) {
      say("Not in a Jam.");
      showError(error.message);
    }
  });

  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    join($("code").value.replace(/\s+/g, "").toUpperCase());
  });

  $("leave").addEventListener("click", async () => {
    if (!room.jam) return;
    const jamId = room.jam.id;
    showError("");
    try {
      await api("DELETE", `/api/jams/${jamId}/members/${session.user.id}/`);
      await emit("jam_leave", { jam_id: jamId });
      leftRoom("You left the Jam.");
    } catch (error) {
      showError(error.message);
    }
  });

  // --- For tests and the curious: a read-only view of the timing ----------------------------

  Object.defineProperty(window, "jamDebug", {
    value: Object.freeze({
      clientNow,
      serverNow,
      get offsetMs() {
        return clock.offsetMs;
      },
      get delayMs() {
        return clock.delayMs;
      },
      get startLatencyMs() {
        return startLatencyMs;
      },
      get lastCommand() {
        return lastCommand ? { ...lastCommand } : null;
      },
      get state() {
        return {
          signedIn: Boolean(session.user),
          userId: session.user ? session.user.id : null,
          connected: Boolean(socket && socket.connected),
          joined: room.joined,
          jamId: room.jam ? room.jam.id : null,
          code: room.jam ? room.jam.code : null,
          members: room.jam ? room.jam.members.length : 0,
          now: room.now ? { ...room.now } : null,
          loadedItemId: room.loadedItemId,
          clockSamples: clock.samples.length,
          corrections: room.corrections,
          scheduled: scheduled !== null,
        };
      },
      // One reading of the player, stamped with both clocks.
      sample() {
        return {
          currentTime: audio.currentTime,
          paused: audio.paused,
          readyState: audio.readyState,
          clientMs: clientNow(),
          serverMs: serverNow(),
          expectedMs: expectedMs(),
        };
      },
    }),
    writable: false,
    configurable: false,
  });

  // The Jam of a join link (`?code=`), once signed in.
  const code = new URLSearchParams(location.search).get("code");
  if (code) {
    $("code").value = code;
    say(`Sign in to join the Jam ${code}.`);
  }
  show("sign-in");
})();
