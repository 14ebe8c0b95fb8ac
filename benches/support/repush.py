#!/usr/bin/env python3
"""Push every group that ../shared/bench/populate.py created again, each value
moved by OFFSET (0: the same values), over keep-alive HTTP: what a fleet does
between two scrapes. Used by benches/load.sh to time the scrape after it.
usage: repush.py HOST:PORT GROUPS SERIES_PER_GROUP OFFSET [CONCURRENCY]"""
import http.client
import sys
import threading

hostport, groups, series, offset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conc = int(sys.argv[5]) if len(sys.argv) > 5 else 4
host, port = hostport.split(":")


def body(g):
    # The families, series and labels populate.py pushes; only values move.
    lines = ["# HELP pop_metric A populated gauge.", "# TYPE pop_metric gauge"]
    for s in range(series):
        lines.append(f'pop_metric{{series="s{s}",shard="{s % 7}"}} {g * 1000 + s + offset}.5')
    return ("\n".join(lines) + "\n").encode()


failed = []


def worker(k):
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    for g in range(k, groups, conc):
        c.request("PUT", f"/metrics/job/pop/instance/g{g}", body=body(g), headers={"Content-Type": "text/plain"})
        r = c.getresponse()
        r.read()
        if r.status not in (200, 202):
            failed.append((g, r.status))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failed:
    sys.exit(f"{len(failed)} pushes failed, first: {failed[0]}")
