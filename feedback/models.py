"""The stored objects: topics, submissions, owners and the moderation trail."""

import enum
import hashlib
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


class Credit(enum.StrEnum):
    """How the organisers should credit an author, as the author chose."""

    NAME = "name"
    NAME_AND_ORGANISATION = "name_org"
    ANONYMOUS = "anonymous"


def fingerprint(
    title: str | None,
    body: str,
    author_name: str,
    credit: str,
    organisation: str | None,
    website: str | None,
    topic_id: int,
    visibility: str,
) -> str:
    """The digest fingerprint of an item's fields (also for rows written without the ORM)."""
    parts = (
        title or "",
        body,
        author_name,
        str(credit),
        organisation or "",
        website or "",
        str(topic_id),
        str(visibility),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# How many words of an untitled idea's text stand in for its title.
TITLE_WORDS = 10


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Topic #{self.slug}>"


def title_shown(title: str | None, body: str) -> str:
    """The title, or for an untitled idea the first words of its text: the one rule for
    every page, feed, email and digest."""
    if title:
        return title
    words = body.split()
    return " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # Serves the public list: equality on status and visibility, newest first.
        sa.Index("ix_submissions_public_list", "status", "visibility", "created_at", "id"),
        # Serve the owner's queue: a status tab, or all of them, oldest or newest first.
        sa.Index("ix_submissions_queue", "status", "created_at", "id"),
        sa.Index("ix_submissions_created", "created_at", "id"),
        sa.Index("ix_submissions_topic_time", "topic_id", "created_at", "id"),
        # Serves the public list sorted by +1s.
        sa.Index(
            "ix_submissions_public_top", "status", "visibility", "vote_count", "created_at", "id"
        ),
        # Few items are starred: a partial index finds them without reading the rest.
        sa.Index(
            "ix_submissions_starred",
            "created_at",
            "id",
            sqlite_where=sa.text("starred = 1"),
            postgresql_where=sa.text("starred"),
        ),
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
    starred: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The owner's internal note: shown on the owner's pages only.
    owner_note: Mapped[str | None] = mapped_column(sa.Text)
    # Keyed hash of the client address, so an owner can block it without storing it.
    client_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    credit: Mapped[Credit] = mapped_column(
        _enum(Credit, "credit"), default=Credit.NAME, server_default=Credit.NAME.value
    )
    organisation: Mapped[str | None] = mapped_column(sa.String(120))
    # "Tell me what happens": one email when the idea goes out in a digest.
    notify_author: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    author_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hash of what a digest shows of the item; set on every save (digest_fingerprint).
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # Kept equal to the item's Vote rows: raised in the same transaction as each insert.
    vote_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The link's token is derived from this nonce and the app's secret key, and only its hash
    # is looked up: a copy of the database alone does not hand out the authors' links.
    manage_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    manage_nonce: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the item last became public and approved (see _mark_published): the live "new
    # ideas" bar and the API follow this, so ideas approved out of order are not missed.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The one-time key of the form it came from: a form posted twice (a double click, a retry,
    # two tabs at once) stores one idea, and the database's constraint decides any race.
    form_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Hash of the email and the normalised text: the same idea sent again from a fresh form.
    repeat_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # When the thank-you page showed the manage link: a repeated post shows it only until then.
    link_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the anti-spam rules held the idea in the queue or marked it spam, for the owner.
    hold_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # Read from an email by `flask mail import` or `fetch` (the message: MailMessage).
    by_email: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    topic: Mapped[Topic] = relationship(lazy="joined", innerjoin=True)

    @property
    def shown_title(self) -> str:
        """The title every page, feed, email and digest shows (``title_shown``)."""
        return title_shown(self.title, self.body)

    def digest_fingerprint(self) -> str:
        """A hash of everything a digest shows of this item: a change means "send again"."""
        return fingerprint(
            self.title,
            self.body,
            self.author_name,
            self.credit or Credit.NAME,
            self.organisation,
            self.website,
            self.topic_id,
            self.visibility,
        )

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.visibility} {self.status}>"


@sa.event.listens_for(Submission.__table__, "after_create")
def _build_search_index(_table, connection, **_kw) -> None:
    # Tables made from the models (tests, a first run) get the queue's text search index too.
    from feedback import text_search

    text_search.create(connection)


@sa.event.listens_for(Base.metadata, "after_create")
def _build_content_version(_metadata, connection, **_kw) -> None:
    # Its triggers watch submissions and topics: made once every table is there.
    from feedback import content_version

    content_version.create(connection)


def include_name(name: str | None, type_: str, parents: dict) -> bool:
    """For Alembic's comparison and for backups: only what the models define (the text search
    index and the content version are kept by the database itself)."""
    from feedback import content_version, text_search

    return text_search.include_name(name, type_, parents) and content_version.include_name(
        name, type_, parents
    )


@sa.event.listens_for(Submission, "before_insert")
@sa.event.listens_for(Submission, "before_update")
def _refresh_content_hash(mapper, connection, item: Submission) -> None:
    # One place keeps the hash true, whoever changes the item (owner, author, import).
    item.content_hash = item.digest_fingerprint()
    _mark_published(item)


def _mark_published(item: Submission) -> None:
    # One place notices every way an item becomes public: approval, publishing, consent.
    public_now = item.status == Status.APPROVED and item.visibility == Visibility.PUBLIC
    if not public_now:
        return
    state = sa.inspect(item)
    changed = any(state.attrs[name].history.has_changes() for name in ("status", "visibility"))
    if item.published_at is None or changed:
        item.published_at = utcnow()


class Owner(Base):
    """A site owner (moderator), created from the command line."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Part of the login session's id: bumping it logs out every session (password change).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Flask-Login's protocol.
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<Owner {self.email}>"


class ModerationEvent(Base):
    """One change to a submission: who, when, what, from and to. Never edited or deleted."""

    __tablename__ = "moderation_events"
    __table_args__ = (sa.Index("ix_moderation_events_submission", "submission_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A plain number, not a foreign key: the trail outlives a submission deleted for good.
    submission_id: Mapped[int | None]
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id", ondelete="SET NULL"))
    # Who acted, as text that survives the owner's account: an owner's email, or "author".
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_value: Mapped[str | None] = mapped_column(sa.Text)
    to_value: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<ModerationEvent {self.action} on {self.submission_id} by {self.actor}>"


class LoginAttempt(Base):
    """A try at the owner login, kept to refuse brute force for a while."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_email_time", "email", "created_at"),
        sa.Index("ix_login_attempts_address_time", "address_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    address_hash: Mapped[str] = mapped_column(sa.String(64))
    succeeded: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockKind(enum.StrEnum):
    EMAIL = "email"
    ADDRESS = "address"


class Block(Base):
    """An email or client address whose submissions are refused."""

    __tablename__ = "blocks"
    __table_args__ = (sa.UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BlockKind] = mapped_column(_enum(BlockKind, "block_kind"))
    # A lower-cased email, or the keyed hash of a client address (raw addresses are not kept).
    value: Mapped[str] = mapped_column(sa.String(254))
    # What the owner sees: the email, or which submission the address came from.
    label: Mapped[str] = mapped_column(sa.String(254))
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedAuthor(Base):
    """An author whose public comments skip the queue once an owner trusted them.

    Emails are not verified, so the name must match too (as WordPress does), which makes
    passing oneself off as a trusted author take more than knowing their address.
    """

    __tablename__ = "trusted_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    author_name: Mapped[str] = mapped_column(sa.String(80))
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Digest(Base):
    """A digest that went to the organisers: when, to whom, with which options and items."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # "email" when the app sent it, "marked" when an owner sent it some other way.
    method: Mapped[str] = mapped_column(sa.String(16))
    recipients: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(254))
    # The options and the header (period, counts) as JSON, so a re-download is identical.
    options_json: Mapped[str] = mapped_column(sa.Text)
    header_json: Mapped[str] = mapped_column(sa.Text)
    item_count: Mapped[int]
    message_id: Mapped[str] = mapped_column(sa.String(254))
    send_count: Mapped[int] = mapped_column(default=1)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list["DigestItem"]] = relationship(
        back_populates="digest", order_by="DigestItem.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Digest {self.id} {self.item_count} items>"


class DigestItem(Base):
    """One submission as a digest showed it, frozen so the digest can be rebuilt exactly."""

    __tablename__ = "digest_items"
    __table_args__ = (
        # The same content never goes out twice, even from two senders at once.
        sa.UniqueConstraint("submission_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("digests.id", ondelete="CASCADE"), index=True
    )
    # A plain number: the record of what was sent outlives the submission.
    submission_id: Mapped[int] = mapped_column(index=True)
    position: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    snapshot_json: Mapped[str] = mapped_column(sa.Text)

    digest: Mapped[Digest] = relationship(back_populates="items")


class Vote(Base):
    """One reader's +1 on a public idea."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("submission_id", "voter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    # Keyed hashes: the browser's signed voter id, and the client's network address.
    voter_hash: Mapped[str] = mapped_column(sa.String(64))
    address_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRequest(Base):
    """An owner's request to publish a private note, maybe in a trimmed version."""

    __tablename__ = "consent_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    proposed_title: Mapped[str | None] = mapped_column(sa.String(120))
    proposed_body: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "accepted" or "declined"; None while open.
    answer: Mapped[str | None] = mapped_column(sa.String(16))


class MailMessage(Base):
    """An email read into the queue, so it is never read in twice, and what the owner may
    want of the original: its headers, its whole text, its attachments' names (attachments
    themselves are not kept)."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the Message-ID, or of the whole message when it has none.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # None once the idea is deleted for good: the message still counts as read.
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL"), unique=True
    )
    headers: Mapped[str] = mapped_column(sa.Text)
    # The text before quotes and signature were trimmed (HTML-only mail: as text).
    original: Mapped[str] = mapped_column(sa.Text)
    # One name a line.
    attachments: Mapped[str] = mapped_column(sa.Text, default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailFolder(Base):
    """Where `flask mail fetch` got to in an IMAP folder: the UIDs after ``last_uid`` are
    new, as long as the folder's UIDVALIDITY is the one seen."""

    __tablename__ = "mail_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    # host, user and folder, as one string
    account: Mapped[str] = mapped_column(sa.String(600), unique=True)
    uid_validity: Mapped[int] = mapped_column(sa.BigInteger)
    last_uid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SpamPhrase(Base):
    """A word or phrase that sends an idea to the spam tab for review (never drops it)."""

    __tablename__ = "spam_phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased, whitespace folded: the form in which it is matched.
    phrase: Mapped[str] = mapped_column(sa.String(100), unique=True)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuotaHit(Base):
    """One counted action (an idea stored, a link mail, a +1) for quotas every worker shares."""

    __tablename__ = "quota_hits"
    __table_args__ = (sa.Index("ix_quota_hits_bucket_key_time", "bucket", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What was done ("submit", "vote", ...) and a keyed hash of who did it (address, email).
    bucket: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Theme(Base):
    """Ideas in one topic that ask for the same thing; kept across recomputations."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(120))
    # A label the owner wrote: no recomputation changes it.
    label_by_owner: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Up to five words or word pairs, joined by "\n".
    keywords: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    representative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
    # A theme the owner split an idea into: it takes only the ideas pinned to it.
    closed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # After a merge, the theme's old page leads to the theme it joined.
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("themes.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topic: Mapped[Topic] = relationship(lazy="joined", innerjoin=True)

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.split("\n") if k]


class ThemeMember(Base):
    """Which theme an idea is in, and whether the owner put it there (a pin every
    recomputation keeps)."""

    __tablename__ = "theme_members"

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("themes.id", ondelete="CASCADE"), index=True
    )
    pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # How alike the idea is to the rest of its theme (mean cosine similarity), for "why".
    closeness: Mapped[float] = mapped_column(default=0.0, server_default="0")


class DuplicateState(enum.StrEnum):
    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class DuplicatePair(Base):
    """ "Possibly the same as #N": a machine's suggestion, or the owner's decision on one."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (sa.UniqueConstraint("submission_id", "duplicate_of_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    duplicate_of_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[DuplicateState] = mapped_column(
        _enum(DuplicateState, "duplicate_state"), default=DuplicateState.SUGGESTED
    )
    similarity: Mapped[float] = mapped_column(default=0.0)
    # The words both share, joined by " ", for "why".
    shared_words: Mapped[str] = mapped_column(sa.String(300), default="")
    decided_by: Mapped[str | None] = mapped_column(sa.String(254))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ThemeRun(Base):
    """One computation of the themes: when, how long, with which algorithm and settings."""

    __tablename__ = "theme_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ideas: Mapped[int] = mapped_column(default=0)
    themes: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float | None] = mapped_column()
    # The algorithm's version and parameters, as JSON.
    params: Mapped[str] = mapped_column(sa.Text, default="{}")
