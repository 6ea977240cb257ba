"""Benchmarks: proctor against cedarpy and regopy, and the full check path (`make bench`)."""
