"""The ranker: catalog, live probes, durable evidence store, scores, comparisons and a comparison page."""
