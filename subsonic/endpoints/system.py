"""System: ping, getLicense, getOpenSubsonicExtensions, tokenInfo."""

from subsonic.registry import Body, Call, endpoint
from subsonic.spec import EXTENSIONS


@endpoint("ping")
def ping(call: Call) -> Body:
    return None


@endpoint("getLicense")
def get_license(call: Call) -> Body:
    return {"license": {"valid": True}}


@endpoint("getOpenSubsonicExtensions", public=True)
def get_open_subsonic_extensions(call: Call) -> Body:
    return {
        "openSubsonicExtensions": [
            {"name": name, "versions": versions} for name, versions in EXTENSIONS.items()
        ]
    }


@endpoint("tokenInfo")
def token_info(call: Call) -> Body:
    """Who the API key (or other credentials) signs in as: part of apiKeyAuthentication."""
    return {"tokenInfo": {"username": call.user.email}}
