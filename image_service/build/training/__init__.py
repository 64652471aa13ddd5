"""Training of the embedded tiny FLUX pipeline on synthetic expressive faces."""
