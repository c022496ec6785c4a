"""Alembic environment: run with a connection given by trialsieve.web.db.Database.migrate,
or with sqlalchemy.url set in an alembic config."""

from alembic import context
from sqlalchemy import create_engine

from trialsieve.web.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
