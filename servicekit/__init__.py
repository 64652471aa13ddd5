"""What every emoflux service is built from: settings, server bootstrap, errors, metrics, batching.

servicekit holds no model code. A service supplies a :class:`servicekit.host.Component` (its servicers plus
load/warm-up logic) and servicekit runs it: gRPC server with health and reflection, TLS, limits, graceful
drain, error mapping, request ids, access log and Prometheus metrics.
"""
