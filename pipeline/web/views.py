"""/health (liveness) and /ready (readiness) on the Faust web server.

/health answers 200 while the worker's event loop runs; /ready answers 200 only while the
worker can enrich: model loaded, group coordinator known (the broker answers), input
partitions assigned, no rebalance in progress, and no input partition stalled (messages
waiting, no commit for longer than PIPELINE_STALL_READY_S: pipeline.monitor.watchdog).
/metrics comes from Faust's Prometheus sensor (pipeline.app).
"""

from __future__ import annotations

import time
from typing import Any

import faust
from faust.web import Request, Response, View

from pipeline.kafka.health import coordinator_known
from pipeline.monitor import metrics
from pipeline.monitor.activity import Activity

STARTED_AT = time.time()


def readiness(app: faust.App, activity: Activity) -> dict[str, Any]:
    """Each readiness condition and whether all hold."""
    assigned = sorted(app.consumer.assignment()) if app.consumer else []
    inputs = [tp for tp in assigned if tp.topic == activity.input_topic]
    stalled = activity.watchdog.stalled(time.time())
    checks = {
        "model_loaded": activity.model_ready,
        "broker_connected": coordinator_known(app),
        "partitions_assigned": bool(inputs),
        "not_rebalancing": not app.rebalancing,
        "not_stalled": not stalled,
    }
    return {
        "ready": all(checks.values()),
        **checks,
        # input partition → seconds it has waited for a commit with messages behind it
        "stalled_partitions": {str(p): s for p, s in stalled.items()},
        "models": activity.models,
        "input_partitions": [tp.partition for tp in inputs],
        "assigned_partitions": [f"{tp.topic}/{tp.partition}" for tp in assigned],
    }


def refresh_ready_gauge(app: faust.App, activity: Activity) -> None:
    metrics.READY.set(1 if readiness(app, activity)["ready"] else 0)


def register(app: faust.App, activity: Activity) -> None:
    """Add /health and /ready to the app's web server."""

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json(
                {
                    "status": "alive",
                    "uptime_s": round(time.time() - STARTED_AT, 1),
                    "batches": activity.batches,
                    "last_batch_at": activity.last_batch_at,
                    **activity.totals,
                }
            )

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            body = readiness(app, activity)
            return self.json(body, status=200 if body["ready"] else 503)
