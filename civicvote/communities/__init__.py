from flask import Blueprint

bp = Blueprint("communities", __name__)

from . import views  # noqa: E402, F401
