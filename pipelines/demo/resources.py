"""The demo company as a source: it "serves" vendor-shaped payloads like a real API would."""


from datetime import date, datetime

import dagster as dg

from pipelines.raw_store import RawItem
from pipelines.sync import FetchResult


class DemoClient(dg.ConfigurableResource):
    """Answers fetches from the synthetic organisation, honouring the incremental cursor."""

    seed: int = 42
    as_of: str | None = None

    def as_of_date(self) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        return datetime.utcnow().date()

    def fetch(self, since: datetime | None) -> FetchResult:
        from pipelines.demo.generate import generate_demo

        payloads = generate_demo(seed=self.seed, as_of=self.as_of_date())
        items = [
            RawItem(kind=p.kind, item_key=p.item_key, updated_at=p.updated_at, body=p.body)
            for p in payloads
            if since is None or p.updated_at is None or p.updated_at >= since
        ]
        newest = max((p.updated_at for p in payloads if p.updated_at is not None), default=None)
        return FetchResult(
            items=items,
            cursor=newest.isoformat() if newest else None,
            requests=1,
            scope="demo",
            complete=since is None,
        )
