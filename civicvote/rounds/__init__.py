from flask import Blueprint

bp = Blueprint("rounds", __name__)

from . import views  # noqa: E402, F401
