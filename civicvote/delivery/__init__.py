from flask import Blueprint

bp = Blueprint("delivery", __name__)

from . import views  # noqa: E402, F401
