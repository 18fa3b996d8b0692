package relay

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchyard/model"
)

// Metrics are the relay's Prometheus series, registered on a registry the
// caller owns (never the global one).
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ttft     *prometheus.HistogramVec
}

// Backlogger is implemented by a ledger that can say how many settlements
// wait for their group commit.
type Backlogger interface{ Backlog() int }

// NewMetrics registers the relay's series on reg. A nil reg gives metrics
// that are counted but never exported.
func NewMetrics(reg prometheus.Registerer, store *model.Store, ledger Ledger) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchyard", Name: "relay_requests_total",
			Help: "Relayed calls by model, channel and final HTTP status (channel 0: none was reached).",
		}, []string{"model", "channel", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchyard", Name: "relay_duration_seconds",
			Help:    "Time from the call's arrival to its last byte.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchyard", Name: "relay_time_to_first_token_seconds",
			Help:    "Time from a streamed call's arrival to its first upstream event.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"model"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.requests, m.latency, m.ttft)
	if store != nil {
		reg.MustRegister(&inflightCollector{store: store})
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "switchyard", Name: "channel_cache_size", Help: "Channels in this node's channel index.",
		}, func() float64 {
			if store.Channels == nil {
				return 0
			}
			return float64(store.Channels.Len())
		}))
	}
	if b, ok := ledger.(Backlogger); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "switchyard", Name: "ledger_backlog", Help: "Settlements waiting for their group commit.",
		}, func() float64 { return float64(b.Backlog()) }))
	}
	return m
}

func (m *Metrics) observe(modelName string, channelID, status int, elapsed, ttft time.Duration) {
	m.requests.WithLabelValues(modelName, strconv.Itoa(channelID), strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(modelName).Observe(elapsed.Seconds())
	if ttft > 0 {
		m.ttft.WithLabelValues(modelName).Observe(ttft.Seconds())
	}
}

var inflightDesc = prometheus.NewDesc("switchyard_channel_inflight", "Calls in flight per channel on this node.", []string{"channel"}, nil)

// inflightCollector reads in-flight counts at scrape time from the index,
// so deleted channels disappear with it.
type inflightCollector struct{ store *model.Store }

func (c *inflightCollector) Describe(ch chan<- *prometheus.Desc) { ch <- inflightDesc }

func (c *inflightCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store.Channels == nil {
		return
	}
	for _, rc := range c.store.Channels.All() {
		ch <- prometheus.MustNewConstMetric(inflightDesc, prometheus.GaugeValue, float64(rc.Health.Inflight()), strconv.Itoa(rc.ID))
	}
}
