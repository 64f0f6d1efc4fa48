from flask import Blueprint

bp = Blueprint("registry", __name__)

from . import views  # noqa: E402, F401
