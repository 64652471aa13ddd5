"""Training the embedded tiny ViT on synthetic faces (data, model, metrics, manifest)."""
