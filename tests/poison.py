"""A demo snapshot poisoned the way a tracker or a form can poison it, for the inert-output tests (#12)."""

from __future__ import annotations

import duckdb

from warehouse.settings import Settings


def write_published(settings: Settings, *statements: tuple[str, list]) -> None:
    """Change the published snapshot in place, as a sync from a poisoned source would have written it."""
    con = duckdb.connect(str(settings.warehouse.published_path))
    try:
        for sql, params in statements:
            con.execute(sql, params)
    finally:
        con.close()
