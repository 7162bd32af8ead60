"""One idea per form, anti-spam holds and phrases, quotas shared by every worker.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:05:00
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("repeat_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("link_shown_at", feedback.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("hold_reason", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_submissions_form_key"), ["form_key"])
        batch_op.create_index(
            batch_op.f("ix_submissions_repeat_hash"), ["repeat_hash"], unique=False
        )

    op.create_table(
        "spam_phrases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spam_phrases")),
        sa.UniqueConstraint("phrase", name=op.f("uq_spam_phrases_phrase")),
    )
    op.create_table(
        "quota_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_hits")),
    )
    with op.batch_alter_table("quota_hits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quota_hits_bucket_key_time", ["bucket", "key", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quota_hits_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quota_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quota_hits_created_at"))
        batch_op.drop_index("ix_quota_hits_bucket_key_time")
    op.drop_table("quota_hits")
    op.drop_table("spam_phrases")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_repeat_hash"))
        batch_op.drop_constraint(batch_op.f("uq_submissions_form_key"), type_="unique")
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("link_shown_at")
        batch_op.drop_column("repeat_hash")
        batch_op.drop_column("form_key")
