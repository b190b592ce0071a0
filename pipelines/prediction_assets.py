"""Prediction assets: models retrained weekly, open tasks scored after every sync."""

from datetime import datetime, timezone

import dagster as dg

from models.planning.calendar import WorkCalendar
from models.prediction.scoring import score, train
from pipelines.resources import WarehouseResource
from warehouse.db import open_writer
from warehouse.load import rows_to_arrow
from warehouse.settings import Settings


def registry_path(settings: Settings):
    """Trained models live beside the warehouse (git-ignored `data/`), never in the repository."""
    return settings.warehouse.path.parent / "models"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def build_prediction_assets(upstream: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    @dg.asset(group_name="prediction", kinds={"sklearn"}, deps=upstream,
              description="Duration and delay-risk models trained on the warehouse's history (weekly).")
    def prediction_models(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            metas = train(con, registry_path(settings), WorkCalendar.from_settings(settings), _now())
        return dg.MaterializeResult(metadata={
            **{f"{name}_version": meta.version for name, meta in metas.items()},
            **{f"{name}_training_rows": meta.metrics.get("training_rows", 0) for name, meta in metas.items()},
            **{f"{name}_fallback": meta.fallback for name, meta in metas.items()},
            "delay_calibration": metas["delay"].metrics.get("calibration", "none (per-type baseline)"),
        })

    @dg.asset(group_name="prediction", kinds={"duckdb"}, deps=[*upstream, prediction_models],
              description="Duration P50/P90 and delay probability with its factors for every open task.")
    def task_predictions(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with open_writer(settings) as con:
            rows = score(con, registry_path(settings), WorkCalendar.from_settings(settings), _now())
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM task_predictions")
                if rows:
                    con.register("_predictions", rows_to_arrow(con, "task_predictions", rows))
                    con.execute("INSERT INTO task_predictions SELECT * FROM _predictions")
                    con.unregister("_predictions")
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        versions = sorted({r["model_version"] for r in rows})
        # Distinct probabilities to 4 decimals: a calibration that puts many tasks on one value shows in the run.
        distinct = {round(r["delay_probability"], 4) for r in rows if r["delay_probability"] is not None}
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(rows),
            "model_version": ", ".join(versions),
            "distinct_delay_probabilities": len(distinct),
            "explained_tasks": sum(1 for r in rows if r["top_factors"]),
        })

    return [prediction_models, task_predictions]
