"""Per-page translation tables, merged by `dashboards.i18n`."""
