"""An index for the owner's text search: SQLite FTS5 (trigram) or PostgreSQL pg_trgm.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:20:00
"""

from alembic import op

from feedback import text_search

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text_search.create(op.get_bind())


def downgrade() -> None:
    text_search.drop(op.get_bind())
