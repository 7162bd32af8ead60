"""Owners, the moderation trail, login attempts, blocks and trusted authors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:38:51.428279
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "address",
                name="block_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("label", sa.String(length=254), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_blocks_kind")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_attempts_address_time", ["address_hash", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_login_attempts_email_time", ["email", "created_at"], unique=False
        )

    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", feedback.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owners")),
        sa.UniqueConstraint("email", name=op.f("uq_owners_email")),
    )
    op.create_table(
        "trusted_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("author_name", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_authors")),
        sa.UniqueConstraint("email", name=op.f("uq_trusted_authors_email")),
    )
    op.create_table(
        "moderation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["owners.id"],
            name=op.f("fk_moderation_events_owner_id_owners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_events")),
    )
    with op.batch_alter_table("moderation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderation_events_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_moderation_events_submission", ["submission_id", "id"], unique=False
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("starred", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("owner_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_submissions_client_hash"), ["client_hash"], unique=False
        )
        batch_op.create_index("ix_submissions_queue", ["status", "created_at", "id"], unique=False)
        batch_op.create_index("ix_submissions_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_submissions_topic_time", ["topic_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_submissions_starred",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("starred = 1"),
            postgresql_where=sa.text("starred"),
        )

    # A public comment is its author's consent to publish, so an owner who hides one can
    # show it again.
    op.execute("UPDATE submissions SET consent_to_publish = true WHERE visibility = 'public'")


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_starred")
        batch_op.drop_index("ix_submissions_topic_time")
        batch_op.drop_index("ix_submissions_created")
        batch_op.drop_index("ix_submissions_queue")
        batch_op.drop_index(batch_op.f("ix_submissions_client_hash"))
        batch_op.drop_column("client_hash")
        batch_op.drop_column("owner_note")
        batch_op.drop_column("starred")

    with op.batch_alter_table("moderation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_moderation_events_submission")
        batch_op.drop_index(batch_op.f("ix_moderation_events_created_at"))

    op.drop_table("moderation_events")
    op.drop_table("trusted_authors")
    op.drop_table("owners")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_email_time")
        batch_op.drop_index("ix_login_attempts_address_time")

    op.drop_table("login_attempts")
    op.drop_table("blocks")
