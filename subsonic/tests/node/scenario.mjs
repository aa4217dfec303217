// The npm package subsonic-api, an OpenSubsonic client no one here wrote, against a live
// server: node scenario.mjs <server url> <api key> <search term>. Prints one JSON line of
// what the client read; subsonic/tests/test_node_client.py checks it.
import SubsonicAPI from "subsonic-api";

const [url, apiKey, term] = process.argv.slice(2);
let range = null; // a Range header for the next request (the library has no option for it)
const fetchWithRange = (input, init = {}) =>
  fetch(input, range ? { ...init, headers: { ...init.headers, Range: range } } : init);
const api = new SubsonicAPI({ url, auth: { apiKey }, fetch: fetchWithRange });

const ok = (answer, what) => {
  if (answer.status !== "ok") throw new Error(`${what}: ${JSON.stringify(answer)}`);
  return answer;
};

const out = {};
out.ping = ok(await api.ping(), "ping").status;
const artists = ok(await api.getArtists(), "getArtists");
out.artists = artists.artists.index.flatMap((index) => index.artist.map((artist) => artist.name));
const newest = ok(await api.getAlbumList2({ type: "newest", size: 5 }), "getAlbumList2");
out.albums = newest.albumList2.album.map((album) => album.name);
const album = ok(await api.getAlbum({ id: newest.albumList2.album[0].id }), "getAlbum");
out.albumSongs = album.album.song.map((song) => song.title);
const found = ok(await api.search3({ query: term }), "search3");
out.found = (found.searchResult3.song ?? []).map((song) => song.title);
const song = album.album.song[0];

range = "bytes=10-109";
const streamed = await api.stream({ id: song.id });
range = null;
const body = await streamed.arrayBuffer();
out.stream = {
  status: streamed.status,
  contentRange: streamed.headers.get("content-range"),
  length: body.byteLength,
};
if (streamed.status !== 206) out.stream.body = new TextDecoder().decode(body); // why

ok(await api.star({ id: song.id }), "star");
const starred = ok(await api.getStarred2(), "getStarred2");
out.starred = (starred.starred2.song ?? []).map((entry) => entry.id);
ok(await api.scrobble({ id: song.id, submission: true }), "scrobble");

const created = ok(
  await api.createPlaylist({ name: "From subsonic-api", songId: album.album.song.map((s) => s.id) }),
  "createPlaylist",
);
const playlistId = created.playlist.id;
ok(await api.updatePlaylist({ playlistId, songIndexToRemove: 0 }), "updatePlaylist");
const playlist = ok(await api.getPlaylist({ id: playlistId }), "getPlaylist");
out.playlist = {
  name: playlist.playlist.name,
  songs: (playlist.playlist.entry ?? []).map((entry) => entry.title),
};
console.log(JSON.stringify(out));
