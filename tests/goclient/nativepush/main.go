// nativepush: pushes a native histogram with the official Go client's push
// package (protobuf delimited, the only format that carries native buckets),
// and with -mode verify checks that a protobuf scrape of the gateway serves
// the same histogram back, field for field.
//
// Built by tests/goclient.sh from Debian's packaged client_golang (1.14+,
// which has HistogramOpts.NativeHistogramBucketFactor).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

const name = "pushgate_test_native_seconds"

// Observations spans the negative buckets, the zero bucket and positive
// buckets of several magnitudes; tests/goclient.sh expects count 7, sum 3.603.
var observations = []float64{-0.5, 0, 0.003, 0.1, 0.5, 1, 2.5}

func registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:                        name,
		Help:                        "A native histogram pushed by the Go client.",
		Buckets:                     []float64{0.1, 1}, // classic buckets too, for text scrapes
		NativeHistogramBucketFactor: 1.1,
	})
	for _, v := range observations {
		h.Observe(v)
	}
	reg.MustRegister(h)
	return reg
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	url := flag.String("url", "http://127.0.0.1:9091", "gateway URL")
	job := flag.String("job", "native", "job name")
	mode := flag.String("mode", "push", "push | verify")
	flag.Parse()
	reg := registry()
	switch *mode {
	case "push":
		if err := push.New(*url, *job).Gatherer(reg).Push(); err != nil {
			fail("%v", err)
		}
	case "verify":
		verify(*url, *job, reg)
	default:
		fail("unknown mode %q", *mode)
	}
	fmt.Println("ok")
}

// verify scrapes url/metrics asking for protobuf and compares the family
// `name` of group job=job with what the registry gathers.
func verify(url, job string, reg *prometheus.Registry) {
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		fail("gather: %v", err)
	}
	want := mfs[0]
	if want.GetMetric()[0].GetHistogram().GetSchema() == 0 && len(want.GetMetric()[0].GetHistogram().GetPositiveSpan()) == 0 {
		fail("the client did not produce a native histogram (client_golang too old?)")
	}
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Accept", string(expfmt.FmtProtoDelim))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		fail("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail("scrape: status %d", resp.StatusCode)
	}
	if f := expfmt.ResponseFormat(resp.Header); f != expfmt.FmtProtoDelim {
		fail("scrape answered %q, not delimited protobuf", resp.Header.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.FmtProtoDelim)
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			fail("decode scrape: %v", err)
		}
		if mf.GetName() != name {
			continue
		}
		if mf.GetHelp() != want.GetHelp() || mf.GetType() != want.GetType() {
			fail("family header: got help %q type %v, want %q %v", mf.GetHelp(), mf.GetType(), want.GetHelp(), want.GetType())
		}
		for _, m := range mf.GetMetric() {
			isJob := false
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() == job {
					isJob = true
				}
			}
			if !isJob {
				continue
			}
			got, exp := m.GetHistogram(), want.GetMetric()[0].GetHistogram()
			if !proto.Equal(got, exp) {
				fail("histogram differs:\n got: %v\nwant: %v", proto.MarshalTextString(got), proto.MarshalTextString(exp))
			}
			fmt.Printf("native histogram of job %q served back identically (schema %d, %d positive spans, %d negative spans, zero count %d)\n",
				job, got.GetSchema(), len(got.GetPositiveSpan()), len(got.GetNegativeSpan()), got.GetZeroCount())
			return
		}
		fail("family %s has no series with job=%q", name, job)
	}
	fail("family %s not in the protobuf scrape", name)
}
