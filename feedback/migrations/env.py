"""Alembic runs inside `flask db ...`, so it uses the app's engine and models."""

from alembic import context

from feedback import models
from feedback.db import Base, get_engine


def run_migrations() -> None:
    engine = get_engine()
    if context.is_offline_mode():
        context.configure(url=engine.url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=models.include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
