#!/usr/bin/env python3
"""Drives a running Pushgate with the real prometheus_client library:
push_to_gateway, pushadd_to_gateway, delete_from_gateway, then checks the
scrape. Usage: python_client.py HOST:PORT"""
import sys
import urllib.request

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import delete_from_gateway, push_to_gateway, pushadd_to_gateway

gw = sys.argv[1]


def scrape():
    with urllib.request.urlopen(f"http://{gw}/metrics") as r:
        return r.read().decode()


reg = CollectorRegistry()
g = Gauge("job_last_success_unixtime", "Last time the batch job succeeded.", registry=reg)
g.set(1234.5)
c = Counter("job_runs", "Runs of the batch job.", registry=reg)
c.inc(3)
h = Histogram("job_duration_seconds", "Duration.", registry=reg, buckets=(0.5, 1.0))
h.observe(0.7)
key = {"instance": "", "path": "/var/tmp", "sp": "a b"}
push_to_gateway(gw, job="py/batch", registry=reg, grouping_key=key)
text = scrape()
want = 'job_last_success_unixtime{instance="",job="py/batch",path="/var/tmp",sp="a b"} 1234.5'
assert want in text, text
assert 'job_runs_total{instance="",job="py/batch",path="/var/tmp",sp="a b"} 3' in text, text
assert 'job_duration_seconds_bucket{instance="",job="py/batch",path="/var/tmp",sp="a b",le="1"} 1' in text, text

reg2 = CollectorRegistry()
Gauge("job_extra", "Added later.", registry=reg2).set(7)
pushadd_to_gateway(gw, job="py/batch", registry=reg2, grouping_key=key)
text = scrape()
assert 'job_extra{instance="",job="py/batch",path="/var/tmp",sp="a b"} 7' in text, text
assert "job_last_success_unixtime{" in text, "pushadd must keep other families"

delete_from_gateway(gw, job="py/batch", grouping_key=key)
text = scrape()
assert 'job="py/batch"' not in text, text
print("python prometheus_client: push, pushadd, delete OK")
