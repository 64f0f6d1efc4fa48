"""Serving stored files by their random names."""

from flask import abort, current_app, send_from_directory

from . import bp
from .storage import find_upload, upload_folder


@bp.get("/uploads/<name>")
def file(name: str):
    upload = find_upload(name)
    if upload is None:
        abort(404)
    content_type = "image/jpeg" if name == upload.thumbnail_name else upload.content_type
    response = send_from_directory(
        upload_folder(current_app.instance_path), name, mimetype=content_type, max_age=86400
    )
    # Served files never run: no scripts, no plugins, not framed elsewhere.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if content_type == "application/pdf":
        response.headers["Content-Disposition"] = "inline"
    return response
