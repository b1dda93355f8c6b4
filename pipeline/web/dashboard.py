"""/dashboard/: one page an operator opens to see the worker's health and what the news is about.

The page (static/dashboard.html + .js, uPlot vendored under static/vendor/, no CDN) polls
/dashboard/data every few seconds and redraws without reloading.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import faust
from faust.web import Blueprint, Request, Response, View

from pipeline.contracts import entity_labels
from pipeline.monitor.activity import SAMPLE_S, Activity
from pipeline.monitor.entities import STANCES, recent, timeline, top_entities
from pipeline.web.views import readiness

STATIC = Path(__file__).parent / "static"


def snapshot(app: faust.App, activity: Activity, mentions: Any, names: Any) -> dict[str, Any]:
    """Everything the page shows, as JSON."""
    return {
        "app": app.conf.id,
        "sample_s": SAMPLE_S,
        "labels": entity_labels(),
        "stances": STANCES,
        "readiness": readiness(app, activity),
        "totals": dict(activity.totals),
        "history": list(activity.history),
        "languages": activity.languages(),
        "top_entities": top_entities(recent(mentions.table.items(), time.time()), names),
        "latest": list(activity.latest),
    }


def entity(activity: Activity, mentions: Any, names: Any, entity_id: str) -> dict[str, Any]:
    """One entity over the window: its name and forms, its stance per minute and language, and
    the latest articles that mention it."""
    known = names.get(entity_id) or {}
    return {
        "entity_id": entity_id,
        "name": known.get("name", entity_id),
        "forms": known.get("forms", []),
        "timeline": timeline(recent(mentions.table.items(), time.time()), entity_id),
        "articles": [
            {k: a.get(k) for k in ("id", "language", "title", "enriched_at")}
            | {"stance": a["entity_stance"][entity_id]}
            for a in activity.latest
            if entity_id in a["entity_stance"]
        ],
    }


def register(app: faust.App, activity: Activity, mentions: Any, names: Any) -> None:
    """Serve the page, its data and its assets under /dashboard/; `mentions` is the windowed
    entity-id-mentions table, `names` the entity-names table."""
    blueprint = Blueprint("dashboard")

    @blueprint.route("/", name="index")
    class Page(View):
        async def get(self, request: Request) -> Response:
            return self.html((STATIC / "dashboard.html").read_text(encoding="utf-8"))

    @blueprint.route("/data", name="data")
    class Data(View):
        async def get(self, request: Request) -> Response:
            return self.json(snapshot(app, activity, mentions, names))

    @blueprint.route("/entity", name="entity")
    class Entity(View):
        async def get(self, request: Request) -> Response:
            entity_id = request.query.get("id", "")
            if not entity_id:
                return self.json({"error": "pass ?id=<entity id>"}, status=400)
            return self.json(entity(activity, mentions, names, entity_id))

    blueprint.static("/static/", STATIC)
    blueprint.register(app, url_prefix="/dashboard/")
