"""Alembic environment: the engine comes from `monitor.db.upgrade` (config attribute "engine")."""

from alembic import context

from monitor.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` use: build one from the monitor config
        from monitor.config import load_config
        from monitor.db import make_engine

        engine = make_engine(load_config().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
