"""HTTP gateway compatible with the Hugging Face Inference API, in front of the emoflux gRPC services.

``POST /models/<emotion model>`` behaves like an ``image-classification`` endpoint and
``POST /models/<image model>`` like a ``text-to-image`` endpoint, so ``huggingface_hub.InferenceClient``
(and any other client of that API) works against emoflux unchanged.
"""
