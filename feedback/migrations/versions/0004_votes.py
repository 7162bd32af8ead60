"""Readers' +1 votes, and the count that sorts ideas by them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:16:02.464226
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_votes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint("submission_id", "voter_hash", name=op.f("uq_votes_submission_id")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vote_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_submissions_public_top",
            ["status", "visibility", "vote_count", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_public_top")
        batch_op.drop_column("vote_count")

    op.drop_table("votes")
