"""Organizer-side accounts and their community-scoped roles."""

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow

MIN_PASSWORD = 10  # characters, for every password set (forms, services, command)

# Roles held within one community. "admin" is global and lives on the user.
ORGANIZER = "organizer"
REVIEWER = "reviewer"
ORG_MEMBER = "org_member"
SUPERVISOR = "supervisor"
CLERK = "clerk"
COMMUNITY_ROLES = (ORGANIZER, REVIEWER, ORG_MEMBER, SUPERVISOR, CLERK)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Part of every session's id: raised at logout, so a copied session cookie opens nothing.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")
    organization = relationship("Organization", back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def get_id(self) -> str:
        """The session's user id, bound to the password and the session version: a new
        password ends other sessions, a logout ends them all."""
        return f"{self.id}.{self.session_mark()}"

    def session_mark(self) -> str:
        text = f"{self.session_version or 0}:{self.password_hash}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def end_sessions(self) -> None:
        """Make every session of this account invalid on the server (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def roles_in(self, community_id: int) -> set[str]:
        """The roles this user holds in one community (admins hold all of them)."""
        if self.is_admin:
            return set(COMMUNITY_ROLES)
        return {m.role for m in self.memberships if m.community_id == community_id}

    def has_role(self, community_id: int, *roles: str) -> bool:
        held = self.roles_in(community_id)
        return bool(held.intersection(roles)) if roles else bool(held)


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "community_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user = relationship("User", back_populates="memberships")
    community = relationship("Community")
