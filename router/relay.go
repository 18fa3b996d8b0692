package router

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"switchyard/controller"
	"switchyard/relay"
)

// relayRoutes builds the relay engine and mounts the channel and model
// endpoints, the /v1 relay and, when METRICS_ENABLED is set, /metrics.
func relayRoutes(r *gin.Engine, api *gin.RouterGroup, d *deps) {
	// A registry of our own, not the global one: two apps in one test
	// process must not collide.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	engine := relay.New(d.cfg, d.store, relay.StoreLedger{L: d.store.Ledger}, reg)
	d.store.AtClose(engine.Close)
	if d.cfg.IsMaster() {
		engine.StartMonitor()
	}
	rh := &controller.Relay{Store: d.store, Engine: engine}
	channelRoutes(api, d, rh)
	api.GET("/models", d.auth.User(), rh.ConsoleModels)
	if d.cfg.MetricsEnabled {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	}
}
