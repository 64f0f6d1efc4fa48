"""Uploaded files (progress photos, receipts, proposal documents): checks, storage, serving.

Used by proposals and delivery alike; imports neither.
"""

from flask import Blueprint

bp = Blueprint("uploads", __name__)
