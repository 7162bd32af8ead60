"""The stored objects: topics and submissions."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.db import Base, UTCDateTime, utcnow


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    WITHDRAWN = "withdrawn"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    # Store the lower-case values the product doc uses, not the member names, as VARCHAR + CHECK.
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Topic #{self.slug}>"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # Serves the public list: equality on status and visibility, newest first.
        sa.Index("ix_submissions_public_list", "status", "visibility", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"))
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), default=Status.PENDING)
    author_name: Mapped[str] = mapped_column(sa.String(80))
    email: Mapped[str] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(200))
    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topics.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str | None] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    consent_to_publish: Mapped[bool] = mapped_column(default=False)
    # Only a hash is stored, so a copy of the database does not hand out the authors' links.
    manage_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topic: Mapped[Topic] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.visibility} {self.status}>"
