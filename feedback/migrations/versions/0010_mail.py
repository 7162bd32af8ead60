"""Ideas that arrived by email: the flag on submissions, the messages read, IMAP progress.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:20:00
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): SQLite keeps the table, and its triggers, as they are.
    op.add_column(
        "submissions",
        sa.Column("by_email", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("imported_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_mail_messages_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_messages_key")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_mail_messages_submission_id")),
    )
    op.create_table(
        "mail_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=600), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("fetched_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_folders")),
        sa.UniqueConstraint("account", name=op.f("uq_mail_folders_account")),
    )


def downgrade() -> None:
    op.drop_table("mail_folders")
    op.drop_table("mail_messages")
    # SQLite 3.35+ drops a column in place: no batch copy, the triggers stay.
    op.drop_column("submissions", "by_email")
