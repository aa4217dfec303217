"""Files: uploads verified by their content, and stored files kept in step with their rows.

- `uploads`: what every upload check shares (size limits, generated names).
- `images`: images, read by Pillow.
- `content_types`: the Content-Type of a stored file, from its verified extension (audio
  itself is verified in `catalog/audio.py`, the one app that stores it).
- `storage`: stored files that follow their rows: replaced or deleted files go after commit,
  a failed save leaves no new file, absolute URLs.
- `object_storage`: the bucket backend (STORAGE_BUCKET), and what the stream reads from
  either storage (a file's size and time, a byte range a chunk at a time).

A file's extension and the client's content type are never trusted, and the client's file
name never becomes a storage path: every accepted file gets a generated name.
"""
