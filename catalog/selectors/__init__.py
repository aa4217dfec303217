"""Reads about the catalog, each shaped for its response so query counts stay constant.

Import the module of the subject (`from catalog.selectors import songs`): `songs`, `albums`,
`artists`, `genres` (the genre list) and `discovery` (featured, trending, made for you, random
songs); `rows` holds the shape each kind's rows are read in, which those modules and the search
engine (`catalog/search.py`) share.
"""
