"""Browsing: getMusicFolders. The whole catalog is one music folder, id 1."""

from subsonic.ids import MUSIC_FOLDER_ID
from subsonic.registry import Body, Call, endpoint

MUSIC_FOLDER_NAME = "Music"


@endpoint("getMusicFolders")
def get_music_folders(call: Call) -> Body:
    return {"musicFolders": {"musicFolder": [{"id": MUSIC_FOLDER_ID, "name": MUSIC_FOLDER_NAME}]}}
