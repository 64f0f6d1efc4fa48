from flask import Blueprint

bp = Blueprint("proposals", __name__)

from . import views  # noqa: E402, F401
