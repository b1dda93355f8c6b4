"""/health on the Faust web server: 200 while the worker consumes, 503 otherwise."""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View


def register(app: faust.App, state: Any) -> None:
    """Add the pipeline's views; `state` is the agent's WorkerState."""

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            assigned = sorted(app.consumer.assignment()) if app.consumer else []
            consuming = state.model_ready and bool(assigned) and not app.rebalancing
            body = {
                "status": "ok" if consuming else "unavailable",
                "model_ready": state.model_ready,
                "rebalancing": app.rebalancing,
                "assigned_partitions": [f"{tp.topic}/{tp.partition}" for tp in assigned],
                "batches": state.batches,
                "last_batch_at": state.last_batch_at,
                **state.counts,
            }
            return self.json(body, status=200 if consuming else 503)
