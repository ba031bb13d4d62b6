#!/usr/bin/env python3
"""Fixture for the resize test: a seeded 8-bit RGB image resized by Pillow's BILINEAR filter (the
resampling YolosImageProcessor uses), downscaling and upscaling.   python3 tools/pil_resize_reference.py"""
import json, random
from PIL import Image

random.seed(3)
W, H = 37, 23
pixels = [random.randrange(256) for _ in range(W * H * 3)]
img = Image.frombytes("RGB", (W, H), bytes(pixels))
out = {"width": W, "height": H, "pixels": pixels, "resized": []}
for (w, h) in [(16, 16), (48, 32), (20, 40), (37, 11)]:
    r = img.resize((w, h), Image.BILINEAR)
    out["resized"].append({"width": w, "height": h, "pixels": list(r.tobytes())})
json.dump(out, open("test/fixtures/pil-bilinear.json", "w"))
