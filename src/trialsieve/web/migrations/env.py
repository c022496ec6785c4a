"""Alembic environment: run with a connection given by trialsieve.web.db.Database.migrate,
or with sqlalchemy.url set in an alembic config."""

from alembic import context
from sqlalchemy import create_engine

from trialsieve.web.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic: no database: set sqlalchemy.url in the alembic config")
    engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
