from ninja import Schema


class Stats(Schema):
    total_songs: int
    total_albums: int
    total_users: int
    total_artists: int
