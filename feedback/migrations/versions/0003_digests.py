"""Digests and what they held; how authors want to be credited.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:06:37.054104
"""

import hashlib

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sent_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("header_json", sa.Text(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=254), nullable=False),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digests_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("snapshot_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["digests.id"],
            name=op.f("fk_digest_items_digest_id_digests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_items")),
        sa.UniqueConstraint(
            "submission_id", "content_hash", name=op.f("uq_digest_items_submission_id")
        ),
    )
    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_items_digest_id"), ["digest_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_digest_items_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credit", sa.String(length=16), server_default="name", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_submissions_credit"), "credit IN ('name', 'name_org', 'anonymous')"
        )
        batch_op.add_column(sa.Column("organisation", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("notify_author", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("author_told_at", feedback.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))

    _fill_content_hashes()
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=False)


def _fingerprint(row) -> str:
    # Frozen copy of feedback.models.fingerprint as of this revision.
    parts = (
        row.title or "",
        row.body,
        row.author_name,
        "name",
        "",
        row.website or "",
        str(row.topic_id),
        row.visibility,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fill_content_hashes() -> None:
    """Existing ideas get their fingerprint, so the first digest's ledger works for them."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, title, body, author_name, website, topic_id, visibility FROM submissions"
        )
    ).all()
    for row in rows:
        connection.execute(
            sa.text("UPDATE submissions SET content_hash = :hash WHERE id = :id"),
            {"hash": _fingerprint(row), "id": row.id},
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
        batch_op.drop_column("author_told_at")
        batch_op.drop_column("notify_author")
        batch_op.drop_column("organisation")
        batch_op.drop_constraint(op.f("ck_submissions_credit"), type_="check")
        batch_op.drop_column("credit")

    with op.batch_alter_table("digest_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_items_submission_id"))
        batch_op.drop_index(batch_op.f("ix_digest_items_digest_id"))

    op.drop_table("digest_items")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digests_sent_at"))

    op.drop_table("digests")
