"""Procedural expressive faces for training and probing emotion classifiers.

Each face is drawn with PIL from a seed: a head with varied skin tone, size, position and
rotation whose brows, eyes and mouth encode one of seven expressions, optionally over a cluttered
background with lighting, colour cast, blur and noise. Everything is deterministic in its seed.
"""

from synthfaces.dataset import make_dataset, sample_grid
from synthfaces.labels import LABELS, label_index
from synthfaces.render import render

__all__ = ["LABELS", "label_index", "make_dataset", "render", "sample_grid"]
