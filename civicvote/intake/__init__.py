from flask import Blueprint

bp = Blueprint("intake", __name__)

from . import views  # noqa: E402, F401
