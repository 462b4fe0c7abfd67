"""vlmeval-steps: VLMEvalKit-grade evaluation of vision-language models as a Snakemake workflow."""

from PIL import Image as _Image

__version__ = "0.1.0"

# As upstream (vlmeval/smp/vlm.py sets it on import): Pillow opens images of up to 1e9 pixels. A document's
# concatenated pages exceed Pillow's default limit (120 Letter pages in 5 columns: 233 Mpx).
_Image.MAX_IMAGE_PIXELS = int(1e9)
