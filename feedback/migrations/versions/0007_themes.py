"""Themes, their members and the owner's pins, duplicate pairs, a record of each computation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:36:26.228099
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "theme_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", feedback.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ideas", sa.Integer(), nullable=False),
        sa.Column("themes", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_runs")),
    )
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "suggested",
                "confirmed",
                "dismissed",
                name="duplicate_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("similarity", sa.Double(), nullable=False),
        sa.Column("shared_words", sa.String(length=300), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", feedback.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["submissions.id"],
            name=op.f("fk_duplicate_pairs_duplicate_of_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_duplicate_pairs_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint(
            "submission_id", "duplicate_of_id", name=op.f("uq_duplicate_pairs_submission_id")
        ),
    )
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_pairs_duplicate_of_id"), ["duplicate_of_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_duplicate_pairs_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("label_by_owner", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("keywords", sa.String(length=500), server_default="", nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["themes.id"],
            name=op.f("fk_themes_merged_into_id_themes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["submissions.id"],
            name=op.f("fk_themes_representative_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_themes_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_themes_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "theme_members",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("closeness", sa.Double(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_theme_members_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_theme_members_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_theme_members")),
    )
    with op.batch_alter_table("theme_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_theme_members_theme_id"), ["theme_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("theme_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_theme_members_theme_id"))

    op.drop_table("theme_members")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_themes_topic_id"))

    op.drop_table("themes")
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_pairs_submission_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_pairs_duplicate_of_id"))

    op.drop_table("duplicate_pairs")
    op.drop_table("theme_runs")
