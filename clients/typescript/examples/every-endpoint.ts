/**
 * Calls every operation of the API once, with typed parameters and bodies.
 *
 * It is not meant to run against a server: `tsc --strict --noEmit` compiling it is the
 * proof that the generated types, the wrapper and the API line up, and
 * scripts/check-coverage.mjs fails when an operation of openapi.json is missing here.
 * When the schema gains an operation, add a call below (by path, not operationId).
 */
import {
  ApiError,
  createApiClient,
  isValidationError,
  toFormData,
  type ApiErrorBody,
  type Song,
  type SongPage,
} from "../src/client";

/** Fails to compile unless the error types of the schema are the documented shapes. */
function errorText(error: ApiErrorBody | undefined): string {
  if (error === undefined) return "no body";
  return isValidationError(error) ? error.detail.map((item) => `${item.loc.join(".")}: ${item.msg}`).join("; ") : error.detail;
}

export async function everyEndpoint(): Promise<void> {
  const api = createApiClient({
    baseUrl: "http://localhost:8000",
    onSignOut: (reason) => console.log(`signed out (${reason})`),
  });
  const { client } = api;

  // --- health --------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/health/");
    if (data) console.log(data.status, data.database);
    else console.log(errorText(error));
  }

  // --- auth ----------------------------------------------------------------
  {
    const { data, error } = await client.POST("/api/auth/registration/", {
      body: {
        email: "ada@example.com",
        password1: "correct horse battery staple",
        password2: "correct horse battery staple",
        full_name: "Ada Lovelace",
      },
    });
    if (error) console.log(errorText(error));
    else console.log(data.user.email, data.access.length > 0, data.refresh.length > 0);
  }
  {
    // The raw call; api.signIn() below does the same and keeps the tokens.
    const { data, error } = await client.POST("/api/auth/login/", {
      body: { email: "ada@example.com", password: "correct horse battery staple" },
    });
    if (error) console.log(errorText(error));
    else console.log(data.user.id, data.user.is_admin);
  }
  const user = await api.signIn("ada@example.com", "correct horse battery staple");
  console.log(user.full_name, user.date_joined);
  const tokens = await api.tokens();
  {
    const { data, error } = await client.POST("/api/auth/token/refresh/", {
      body: { refresh: tokens?.refresh ?? "" },
    });
    if (error) console.log(errorText(error));
    else console.log(data.access, data.refresh);
  }
  {
    const { data, error } = await client.GET("/api/auth/user/");
    if (error) console.log(errorText(error));
    else console.log(data.email, data.image_url ?? "no image");
  }
  {
    // JSON: a name only.
    const { data, error } = await client.PATCH("/api/auth/user/", { body: { full_name: "Ada King" } });
    if (error) console.log(errorText(error));
    else console.log(data.full_name);
    // Multipart: a File/Blob value makes the body form data.
    const image = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" });
    const withImage = await client.PATCH("/api/auth/user/", { body: { image_file: image } });
    console.log(withImage.data?.image_url);
  }
  {
    const { data, error } = await client.GET("/api/admin/check/");
    if (error) console.log(errorText(error));
    else console.log(data.is_admin);
  }

  // --- app passwords (for the Subsonic apps) ------------------------------
  {
    const { data, error } = await client.POST("/api/me/app-passwords/", { body: { name: "Phone (Symfonium)" } });
    if (error) console.log(errorText(error));
    else console.log(data.id, data.secret, data.last_used_at);
  }
  {
    const { data, error } = await client.GET("/api/me/app-passwords/");
    if (error) console.log(errorText(error));
    else console.log(data.map((appPassword) => `${appPassword.name} ${appPassword.last_used_at ?? "never"}`));
  }
  {
    const { error, response } = await client.DELETE("/api/me/app-passwords/{app_password_id}/", {
      params: { path: { app_password_id: 1 } },
    });
    console.log(response.status, error ? errorText(error) : "revoked");
  }

  // --- users ---------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/users/", {
      params: { query: { search: "ada", limit: 20, offset: 0 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((person) => person.full_name));
  }
  {
    const { data, error } = await client.GET("/api/users/{user_id}/", { params: { path: { user_id: user.id } } });
    if (error) console.log(errorText(error));
    else console.log(data.full_name);
  }

  // --- songs ---------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/songs/", {
      params: { query: { search: "blue", artist: "Miles Davis", ordering: "title", limit: 50, offset: 0 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.length);
    // The same through the wrapper, which throws ApiError instead.
    const page: SongPage = await api.listSongs({ album_id: 3, limit: 10 });
    const first: Song | undefined = page.items[0];
    console.log(page.count, first?.title);
  }
  let songId = 1;
  {
    const audio = new Blob([new Uint8Array(16)], { type: "audio/mpeg" });
    const { data, error } = await client.POST("/api/songs/", {
      body: { title: "So What", artist: "Miles Davis", album_id: null, audio_file: audio },
    });
    if (error) console.log(errorText(error));
    else songId = data.id;
  }
  {
    const { data } = await client.GET("/api/songs/featured/");
    console.log(data?.map((song) => song.title));
  }
  {
    const { data } = await client.GET("/api/songs/made-for-you/");
    console.log(data?.length);
  }
  {
    const { data } = await client.GET("/api/songs/trending/");
    console.log(data?.[0]?.audio_url);
  }
  const song = { params: { path: { song_id: songId } } };
  {
    const { data, error } = await client.GET("/api/songs/{song_id}/", song);
    if (error) console.log(errorText(error));
    else console.log(data.duration, data.created_at);
  }
  {
    // PUT replaces the fields; JSON here (multipart would also carry new files).
    const { data, error } = await client.PUT("/api/songs/{song_id}/", {
      ...song,
      body: { title: "So What", artist: "Miles Davis", album_id: 3, genre: "Jazz", year: 1959, track_number: 1, disc_number: null },
    });
    if (error) console.log(errorText(error));
    else console.log(data.album_id, data.genre, data.year, data.track_number, data.disc_number);
  }
  {
    // PATCH with JSON can set a field to null (multipart cannot).
    const { data, error } = await client.PATCH("/api/songs/{song_id}/", { ...song, body: { album_id: null } });
    if (error) console.log(errorText(error));
    else console.log(data.album_id === null);
  }
  {
    // The audio itself: a Blob (or parseAs: "stream"); Range asks for bytes.
    const { data, response } = await client.GET("/api/songs/{song_id}/stream/", {
      params: { path: { song_id: songId }, header: { Range: "bytes=0-1023" } },
      parseAs: "blob",
    });
    console.log(response.status, response.headers.get("Content-Range"), data?.size);
  }
  {
    // A rendition once the song lists it in `formats` (else the original streams).
    const { response } = await client.GET("/api/songs/{song_id}/stream/", {
      params: { path: { song_id: songId }, query: { format: "opus" } },
      parseAs: "stream",
    });
    console.log(response.headers.get("Content-Type"));
  }
  {
    // Seek-bar peaks (audiowaveform JSON, version 2): 404 until the pipeline made them.
    const { data, response } = await client.GET("/api/songs/{song_id}/waveform/", song);
    console.log(response.status, data);
  }
  {
    // Lyrics: lines with start times (synced) and word times (enhanced LRC).
    const { data, error } = await client.PUT("/api/songs/{song_id}/lyrics/", {
      ...song,
      body: { text: "[00:12.34]Remember when you were young" },
    });
    if (error) console.log(errorText(error));
    else console.log(data.synced, data.lines.map((line) => `${line.start_ms} ${line.text}`));
  }
  {
    const { data, error } = await client.GET("/api/songs/{song_id}/lyrics/", song);
    if (error) console.log(errorText(error));
    else console.log(data.lines.flatMap((line) => line.words ?? []).map((word) => word.start_ms));
  }
  {
    const { error, response } = await client.DELETE("/api/songs/{song_id}/lyrics/", song);
    console.log(response.status === 204, errorText(error));
  }
  {
    const { response } = await client.HEAD("/api/songs/{song_id}/stream/", song);
    console.log(response.headers.get("Content-Length"), response.headers.get("ETag"));
  }
  {
    const { data, error } = await client.POST("/api/songs/{song_id}/plays/", song);
    if (error) console.log(errorText(error));
    else console.log(data.song_id, data.played_at);
  }

  // --- library: likes and history ------------------------------------------
  {
    // Idempotent both ways: 204 whether or not the song was liked before.
    const { error, response } = await client.PUT("/api/songs/{song_id}/like/", song);
    console.log(response.status === 204, errorText(error));
  }
  {
    const { data, error } = await client.GET("/api/me/likes/", { params: { query: { limit: 20 } } });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((like) => [like.liked_at, like.song.title]));
  }
  {
    // One boolean per id, in the order asked (1 to 50 ids).
    const { data, error } = await client.GET("/api/me/likes/contains/", {
      params: { query: { ids: [songId, 2, 3] } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.map((isLiked) => (isLiked ? "liked" : "not liked")));
  }
  {
    const { error, response } = await client.DELETE("/api/songs/{song_id}/like/", song);
    console.log(response.status === 204, errorText(error));
  }
  {
    const { data, error } = await client.GET("/api/me/history/", { params: { query: { limit: 20 } } });
    if (error) console.log(errorText(error));
    else console.log(data.next, data.items.map((play) => [play.played_at, play.song.audio_url]));
  }

  // --- library: playlists ---------------------------------------------------
  let playlistId = 1;
  {
    const { data, error } = await client.POST("/api/playlists/", {
      body: { name: "Road trip", description: "Windows down", is_public: true },
    });
    if (error) console.log(errorText(error));
    else {
      playlistId = data.id;
      console.log(data.owner.full_name, data.song_count, data.duration, data.image_url ?? "no cover");
    }
  }
  const playlist = { params: { path: { playlist_id: playlistId } } };
  {
    // Yours, newest first; `owner` lists another listener's public playlists instead.
    const { data, error } = await client.GET("/api/playlists/", { params: { query: { owner: user.id, limit: 20 } } });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((item) => [item.name, item.is_public]));
  }
  {
    const { data, error } = await client.GET("/api/playlists/{playlist_id}/", playlist);
    if (error) console.log(errorText(error));
    else console.log(data.name, data.description, data.created_at, data.updated_at);
  }
  {
    // The fields sent change; an `image_file` (multipart, as for albums) replaces the cover.
    const { data, error } = await client.PATCH("/api/playlists/{playlist_id}/", {
      ...playlist,
      body: { name: "Road trip 2", is_public: false },
    });
    if (error) console.log(errorText(error));
    else console.log(data.is_public, data.image_url);
  }
  {
    const { data, error } = await client.POST("/api/playlists/{playlist_id}/songs/", {
      ...playlist,
      body: { song_id: songId, position: 0 },
    });
    if (error) console.log(errorText(error));
    else console.log(data.position, data.added_at, data.song.title);
  }
  {
    const { data, error } = await client.GET("/api/playlists/{playlist_id}/songs/", {
      params: { path: { playlist_id: playlistId }, query: { limit: 100 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.items.map((item) => [item.position, item.song.id]));
  }
  {
    const { error, response } = await client.POST("/api/playlists/{playlist_id}/songs/move/", {
      ...playlist,
      body: { from_position: 0, to_position: 0 },
    });
    console.log(response.status === 204, errorText(error));
  }
  {
    const { error, response } = await client.DELETE("/api/playlists/{playlist_id}/songs/{position}/", {
      params: { path: { playlist_id: playlistId, position: 0 } },
    });
    console.log(response.status === 204, errorText(error));
  }
  {
    const { error, response } = await client.DELETE("/api/playlists/{playlist_id}/", playlist);
    console.log(response.status === 204, errorText(error));
  }

  // --- library: smart playlists ------------------------------------------------
  const blueRules = {
    match: "all" as const,
    rules: [
      { field: "genre" as const, operator: "is" as const, value: "Jazz" },
      { field: "last_played" as const, operator: "not_in_the_last_days" as const, value: 30 },
    ],
    sort: "play_count" as const,
    order: "desc" as const,
    limit: 50,
  };
  {
    // The first songs the rules take, nothing written.
    const { data, error } = await client.POST("/api/playlists/preview/", { body: { rules: blueRules } });
    if (error) console.log(errorText(error));
    else console.log(data.map((song) => song.title));
  }
  {
    // A Navidrome .nsp file becomes a smart playlist (a 422 names what it cannot read).
    const nsp = JSON.stringify({ all: [{ is: { loved: true } }], sort: "lastPlayed", order: "desc", limit: 100 });
    const { data, error } = await client.POST("/api/playlists/import-nsp/", {
      body: { name: "Loved", nsp_file: new Blob([nsp], { type: "application/json" }) },
      bodySerializer: toFormData,
    });
    if (error) console.log(errorText(error));
    else console.log(data.kind, data.rules?.sort);
  }

  // --- scrobbling -------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/me/scrobbling/");
    if (error) console.log(errorText(error));
    else console.log(data.listenbrainz.linked, data.lastfm.available, data.lastfm.last_error);
  }
  {
    // Checked with ListenBrainz: 422 when it refuses the token, 503 when it is away.
    const { data, error } = await client.PUT("/api/me/scrobbling/listenbrainz/", { body: { token: "a-listenbrainz-user-token" } });
    if (error) console.log(errorText(error));
    else console.log(data.listenbrainz.username);
  }
  {
    const { error, response } = await client.DELETE("/api/me/scrobbling/listenbrainz/");
    console.log(response.status === 204, errorText(error));
  }
  {
    // Last.fm's web authentication: send the listener to `url`; the callback gets ?token=.
    const { data, error } = await client.GET("/api/me/scrobbling/lastfm/auth-url/", {
      params: { query: { callback: "https://music.example.com/settings/lastfm" } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.url);
  }
  {
    const { data, error } = await client.PUT("/api/me/scrobbling/lastfm/", { body: { token: "the-callbacks-token" } });
    if (error) console.log(errorText(error));
    else console.log(data.lastfm.username);
  }
  {
    const { error, response } = await client.DELETE("/api/me/scrobbling/lastfm/");
    console.log(response.status === 204, errorText(error));
  }

  // --- genres ----------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/genres/");
    if (error) console.log(errorText(error));
    else console.log(data.map((genre) => [genre.name, genre.song_count, genre.album_count]));
  }
  {
    // A genre's songs and albums: the name as /api/genres/ gives it, in any case.
    const songs = await client.GET("/api/songs/", { params: { query: { genre: "jazz", limit: 20 } } });
    const albums = await client.GET("/api/albums/", { params: { query: { genre: "jazz", limit: 20 } } });
    if (songs.error || albums.error) console.log(errorText(songs.error ?? albums.error));
    else console.log(songs.data.count, albums.data.items.map((found) => found.genre));
  }

  // --- artists and the one search box ----------------------------------------
  {
    const { data, error } = await client.GET("/api/artists/", {
      params: { query: { search: "davis", ordering: "-song_count", limit: 20 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.items.map((artist) => [artist.name, artist.song_count, artist.album_count]));
  }
  const artist = { params: { path: { artist_id: 1 } } };
  {
    const { data, error } = await client.GET("/api/artists/{artist_id}/", artist);
    if (error) console.log(errorText(error));
    else console.log(data.image_url, data.albums.map((album) => album.title), data.top_songs.map((top) => top.artist_id));
  }
  {
    const { data, error } = await client.GET("/api/artists/{artist_id}/songs/", {
      params: { path: { artist_id: 1 }, query: { limit: 20 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((item) => item.title));
  }
  {
    const { data, error } = await client.GET("/api/search/", { params: { query: { q: "beyonce", limit: 5 } } });
    if (error) console.log(errorText(error));
    else {
      console.log(data.songs.map((found) => found.title), data.albums.map((found) => found.title));
      console.log(data.artists.map((found) => found.name), data.playlists.map((found) => found.owner.id));
    }
  }

  // --- albums --------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/albums/", {
      params: { query: { search: "kind", artist: "Miles Davis", ordering: "-created_at", limit: 20, offset: 20 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((album) => album.song_count));
  }
  let albumId = 1;
  {
    // Multipart only: with no file in the body, ask for form data explicitly.
    const { data, error } = await client.POST("/api/albums/", {
      body: { title: "Kind of Blue", artist: "Miles Davis", release_year: 1959 },
      bodySerializer: toFormData,
    });
    if (error) console.log(errorText(error));
    else albumId = data.id;
  }
  const album = { params: { path: { album_id: albumId } } };
  {
    const { data, error } = await client.GET("/api/albums/{album_id}/", album);
    if (error) console.log(errorText(error));
    else console.log(data.songs.map((track) => track.title));
  }
  {
    const { data, error } = await client.PUT("/api/albums/{album_id}/", {
      ...album,
      body: { title: "Kind of Blue", artist: "Miles Davis", release_year: 1959, genre: "Jazz" },
    });
    if (error) console.log(errorText(error));
    else console.log(data.release_year, data.genre);
  }
  {
    const cover = new Blob([new Uint8Array(8)], { type: "image/jpeg" });
    const { data, error } = await client.PATCH("/api/albums/{album_id}/", { ...album, body: { image_file: cover } });
    if (error) console.log(errorText(error));
    else console.log(data.image_url);
  }

  // --- messages ------------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/messages/", { params: { query: { limit: 50, offset: 0 } } });
    if (error) console.log(errorText(error));
    else console.log(data.count, data.items.map((message) => message.content));
  }
  let messageId = 1;
  {
    const { data, error } = await client.POST("/api/messages/", { body: { receiver_id: 2, content: "Hello!" } });
    if (error) console.log(errorText(error));
    else messageId = data.id;
  }
  {
    const { data, error } = await client.GET("/api/messages/{message_id}/", {
      params: { path: { message_id: messageId } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.sender_id, data.receiver_id);
  }
  {
    const { data, error } = await client.GET("/api/users/{user_id}/messages/", {
      params: { path: { user_id: 2 }, query: { limit: 20 } },
    });
    if (error) console.log(errorText(error));
    else console.log(data.items.map((message) => message.created_at));
  }

  // --- jams (listening together; playback itself runs over Socket.IO: src/jam.ts) ----
  let jamId = 1;
  {
    const { data, error } = await client.POST("/api/jams/", { body: { album_id: 1, guests_can_control: false, guests_can_add: true } });
    if (error) console.log(errorText(error));
    else {
      jamId = data.id;
      console.log(data.code, data.join_url, data.now.at_server_ms, data.queue.map((item) => item.song.title));
    }
  }
  const jam = { params: { path: { jam_id: jamId } } };
  {
    const { data, error } = await client.GET("/api/jams/current/");
    if (error) console.log(errorText(error));
    else console.log(data.members.map((member) => `${member.full_name} (${member.role})`));
  }
  {
    const { data, error } = await client.GET("/api/jams/{jam_id}/", jam);
    if (error) console.log(errorText(error));
    else console.log(data.now.playing, data.now.position_ms);
  }
  {
    const { data, error } = await client.POST("/api/jams/join/", { body: { code: "K7QM2XWA" } });
    if (error) console.log(errorText(error));
    else console.log(data.id);
  }
  {
    const { data, error } = await client.PATCH("/api/jams/{jam_id}/", { ...jam, body: { guests_can_control: true } });
    if (error) console.log(errorText(error));
    else console.log(data.guests_can_control);
  }
  {
    const { data, error } = await client.PUT("/api/jams/{jam_id}/members/{user_id}/", {
      params: { path: { jam_id: jamId, user_id: 2 } },
      body: { role: "cohost" },
    });
    if (error) console.log(errorText(error));
    else console.log(data.members.length);
  }
  {
    const { error, response } = await client.DELETE("/api/jams/{jam_id}/members/{user_id}/", {
      params: { path: { jam_id: jamId, user_id: 2 } },
    });
    console.log(response.status === 204, errorText(error));
  }
  {
    const { error, response } = await client.DELETE("/api/jams/{jam_id}/", jam);
    console.log(response.status === 204, errorText(error));
  }

  // --- stats (admins) ------------------------------------------------------
  {
    const { data, error } = await client.GET("/api/stats/");
    if (error) console.log(errorText(error));
    else console.log(data.total_songs, data.total_albums, data.total_users, data.total_artists);
  }

  // --- deletes last ----------------------------------------------------------
  {
    const { error, response } = await client.DELETE("/api/songs/{song_id}/", song);
    console.log(response.status === 204, errorText(error));
  }
  {
    const { error, response } = await client.DELETE("/api/albums/{album_id}/", album);
    console.log(response.status === 204, errorText(error));
  }

  // --- sign out: POST /api/auth/logout/ ---------------------------------------
  {
    // api.signOut() clears the tokens and calls this for you; the raw call:
    const { error, response } = await client.POST("/api/auth/logout/", { body: { refresh: tokens?.refresh ?? "" } });
    console.log(response.status === 204, errorText(error));
  }
  try {
    await api.signOut();
    await api.listSongs({ limit: 0 });
  } catch (thrown) {
    if (thrown instanceof ApiError) console.log(thrown.status, thrown.message, thrown.fieldErrors);
  }
}
