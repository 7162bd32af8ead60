"""Owners' requests to publish private notes; derivable manage links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 21:23:19.816544
"""

import sqlalchemy as sa
from alembic import op

import feedback.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published_at", feedback.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_published_at"), ["published_at"], unique=False
        )
    op.execute(
        "UPDATE submissions SET published_at = COALESCE(approved_at, created_at) "
        "WHERE status = 'approved' AND visibility = 'public'"
    )

    op.create_table(
        "consent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("proposed_title", sa.String(length=120), nullable=True),
        sa.Column("proposed_body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", feedback.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", feedback.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_consent_requests_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
    )
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_requests_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manage_nonce", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_published_at"))
        batch_op.drop_column("published_at")

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("manage_nonce")

    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_requests_submission_id"))

    op.drop_table("consent_requests")
