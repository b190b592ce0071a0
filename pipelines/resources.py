"""The warehouse as a Dagster resource: one validated configuration, swappable in tests."""


import dagster as dg

from warehouse.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Carries the validated configuration (paths already resolved) to every asset and check."""

    settings_json: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(settings_json=settings.model_dump_json())

    def settings(self) -> Settings:
        return Settings.model_validate_json(self.settings_json)
