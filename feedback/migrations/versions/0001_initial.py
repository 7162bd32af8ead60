"""Topics and submissions, with the index behind the public list.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 20:21:59.935455
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("slug", name=op.f("uq_topics_slug")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "private",
                name="visibility",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "spam",
                "withdrawn",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("author_name", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("consent_to_publish", sa.Boolean(), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", feedback.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_submissions_topic_id_topics"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_submissions_manage_token_hash")),
    )
    op.create_index(
        "ix_submissions_public_list",
        "submissions",
        ["status", "visibility", "created_at", "id"],
    )
    op.create_index(op.f("ix_submissions_topic_id"), "submissions", ["topic_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_submissions_topic_id"), table_name="submissions")
    op.drop_index("ix_submissions_public_list", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("topics")
