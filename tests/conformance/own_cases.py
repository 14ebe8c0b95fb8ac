# Conformance cases of our own for ../shared/conformance/pgdiff.py, beside
# the public ones (tests/run-all.sh runs both): what the server says about
# itself and the exact bytes of the JSON API.
PB = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
# Own families compared line by line: HELP and TYPE of the push and process
# families, push sizes (deterministic) and request counts. Push durations
# differ by nature; only their count is compared.
OWN = [r"# (HELP|TYPE) pushgateway_http", r"pushgateway_http_push_size_bytes",
       r"pushgateway_http_requests_total", r"# (HELP|TYPE) process_",
       r"pushgateway_http_push_duration_seconds_count"]
DURATIONS = [r"pushgateway_http_push_duration_seconds\{"]
TIMES = [(r'"\d{4}-\d\d-\d\dT[0-9:.]+Z"', "T"), (r'"1\.[0-9]+e\+09"', "V")]

CASES = [
    {"name": "own-metrics-after-pushes", "steps": [
        {"req": ("POST", "/metrics/job/a", "x 1\n")},
        # A repeated header name counts once in the push size.
        {"req": ("PUT", "/metrics/job/a/instance/b", "# TYPE y gauge\ny 2\n", {"X-A": "1", "x-a": "22"})},
        {"req": ("PUT", "/metrics/job/c", 'z{q="1"} 3\n')},
        {"req": ("DELETE", "/metrics/job/c", "")},
        {"req": ("GET", "/api/v1/status", "")},
        {"scrape": True, "keep": OWN, "mask": DURATIONS},
        {"scrape": {"Accept": PB}, "keep": OWN, "mask": DURATIONS},
    ]},
    {"name": "api-metrics-bytes", "steps": [
        {"req": ("PUT", "/metrics/job/a/instance/b",
                 '# HELP y why\n# TYPE y summary\ny{quantile="0.5"} 2\ny_sum 3\ny_count 4\n'
                 '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n'
                 'u{l="<&>"} 1\n')},
        {"req": ("GET", "/api/v1/metrics", ""), "body": True, "body_sub": TIMES},
    ]},
    {"name": "redirect-bodies-and-locations", "steps": [
        {"req": ("GET", "/metrics/", ""), "body": True, "headers": ["location", "content-type"]},
        {"req": ("GET", "/METRICS?a=1&b=<", ""), "body": True, "headers": ["location", "content-type"]},
        {"req": ("GET", "/metrics//job", ""), "body": True, "headers": ["location", "content-type"]},
        {"req": ("PUT", "/metrics/job/", "x 1\n"), "body": True, "headers": ["location", "content-type"]},
        {"req": ("PUT", "/metrics/job/a%20b//c", "x 1\n"), "body": True, "headers": ["location", "content-type"]},
        {"req": ("GET", "/static", ""), "body": True, "headers": ["location", "content-type"]},
    ]},
    {"name": "empty-job-redirects", "steps": [
        {"req": ("PUT", "/metrics/job@base64/", "x 1\n"), "headers": ["location"]},
        {"req": ("DELETE", "/metrics/job@base64/", ""), "headers": ["location"]},
        {"req": ("POST", "/metrics/job/", "x 1\n"), "headers": ["location"]},
    ]},
    {"name": "empty-job-redirect-keeps-the-route-prefix", "flags": ["--web.route-prefix=/pg"], "steps": [
        {"req": ("PUT", "/pg/metrics/job/", "x 1\n"), "headers": ["location"]},
        {"req": ("GET", "/pg/metrics/", ""), "body": True, "headers": ["location", "content-type"]},
    ]},
    {"name": "malformed-target-body", "steps": [
        {"req": ("PUT", "/metrics/job/a%zz", "x 1\n"), "body": True, "headers": ["content-type"]},
    ]},
]
