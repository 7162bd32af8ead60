"""The content version: a number the database raises with every change to public content.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:10:00
"""

from alembic import op

from feedback import content_version

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    content_version.create(op.get_bind())


def downgrade() -> None:
    content_version.drop(op.get_bind())
