#!/usr/bin/env python3
"""Fixture for the image-decoding tests: a few tiny JPEG/PNG/WebP variants written by Pillow, and the
RGB bytes Pillow decodes them to the way transformers' `load_image` does (`ImageOps.exif_transpose`,
then `.convert("RGB")`).   /usr/bin/python3 tools/image_decode_reference.py   (Debian python3-pil)

Writes test/fixtures/images/*.{jpg,png,webp} and test/fixtures/images/pil-decoded.json:
{ pil, libjpeg, images: [{ file, width, height, rgb: base64, alpha?: base64 }] }."""
import base64, io, json, os, random, struct, zlib
import PIL
from PIL import Image, ImageOps, features

OUT = "test/fixtures/images"
W, H = 33, 23  # odd sizes: partial chroma blocks and MCUs at the right/bottom edges

random.seed(7)
def pixel(x, y):
    # smooth gradients plus sharp colour edges and a little noise: chroma upsampling shows at the edges
    r = (x * 255) // (W - 1)
    g = (y * 255) // (H - 1)
    b = 255 if (x // 4 + y // 4) % 2 else 30
    n = random.randrange(-12, 13)
    return tuple(max(0, min(255, v + n)) for v in (r, g, b))
rgb = Image.new("RGB", (W, H))
rgb.putdata([pixel(x, y) for y in range(H) for x in range(W)])
# orientation marks: a red block at the top-left, so a rotation that goes the wrong way fails loudly
for y in range(4):
    for x in range(6):
        rgb.putpixel((x, y), (250, 10, 10))

def exif(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()

def png16(path, img):
    """A 16-bit RGB PNG (Pillow cannot write one): each 8-bit value v becomes v·257 + a low byte."""
    raw = b"".join(b"\x00" + b"".join(struct.pack(">HHH", *(v * 257 - (v > 0) * 77 for v in img.getpixel((x, y))))
                                      for x in range(img.width)) for y in range(img.height))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", img.width, img.height, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

rgba = rgb.copy()
rgba.putalpha(Image.linear_gradient("L").resize((W, H)).point(lambda a: 255 if a > 128 else 64 + a))

writers = {
    "jpeg-420.jpg": lambda p: rgb.save(p, quality=90, subsampling=2),
    "jpeg-422.jpg": lambda p: rgb.save(p, quality=90, subsampling=1),
    "jpeg-444.jpg": lambda p: rgb.save(p, quality=90, subsampling=0),
    "jpeg-progressive.jpg": lambda p: rgb.save(p, quality=85, subsampling=2, progressive=True),
    "jpeg-grey.jpg": lambda p: rgb.convert("L").save(p, quality=90),
    "jpeg-cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, quality=95),
    "jpeg-exif6.jpg": lambda p: rgb.save(p, quality=90, subsampling=2, exif=exif(6)),
    "jpeg-exif3.jpg": lambda p: rgb.save(p, quality=90, subsampling=2, exif=exif(3)),
    "png-rgb.png": lambda p: rgb.save(p),
    "png-rgba.png": lambda p: rgba.save(p),
    "png-rgb16.png": lambda p: png16(p, rgb),
    "png-palette.png": lambda p: rgb.quantize(colors=16).save(p),
    "png-grey.png": lambda p: rgb.convert("L").save(p),
    "webp-lossy.webp": lambda p: rgb.save(p, quality=90),
    "webp-lossless.webp": lambda p: rgb.save(p, lossless=True),
}

os.makedirs(OUT, exist_ok=True)
images = []
for name, write in writers.items():
    path = os.path.join(OUT, name)
    write(path)
    im = Image.open(path)
    im.load()
    entry = {"file": name, "mode": im.mode}
    im = ImageOps.exif_transpose(im)
    entry.update(width=im.width, height=im.height, rgb=base64.b64encode(im.convert("RGB").tobytes()).decode())
    if "A" in im.getbands():
        entry["alpha"] = base64.b64encode(im.getchannel("A").tobytes()).decode()
    images.append(entry)

json.dump({"pil": PIL.__version__, "libjpeg": features.version("jpg"), "webp": features.version("webp"), "images": images},
          open(os.path.join(OUT, "pil-decoded.json"), "w"), indent=1)
print(f"wrote {len(images)} images to {OUT}")
