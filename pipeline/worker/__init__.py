"""The worker's flow, one step per module: `admit` (decode, validate, refuse duplicate ids) →
tag (`pipeline.enrich`, off the event loop) → `publish` (enriched, entity and dead-letter
records, acknowledged by the broker) → acknowledge. `agents` runs it on Faust; `faust_patches`
holds what works around Faust's consumer, for the faust-streaming version it was written for."""
