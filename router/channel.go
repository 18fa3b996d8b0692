package router

import (
	"github.com/gin-gonic/gin"

	"switchyard/controller"
)

// channelRoutes are the admin channel endpoints, One API's contract.
func channelRoutes(api *gin.RouterGroup, d *deps, rh *controller.Relay) {
	ch := api.Group("/channel", d.auth.Admin())
	ch.GET("/", handle(rh.ListChannels))
	ch.GET("/search", handle(rh.SearchChannels))
	ch.GET("/models", handle(rh.ChannelModels))
	ch.GET("/types", handle(rh.ChannelTypes))
	ch.GET("/test", handle(rh.TestAllChannels))
	ch.GET("/test/:id", handle(rh.TestChannel))
	ch.GET("/update_balance", handle(rh.UpdateAllBalances))
	ch.GET("/update_balance/:id", handle(rh.UpdateChannelBalance))
	ch.GET("/fetch_models/:id", handle(rh.FetchModels))
	ch.POST("/fetch_models", handle(rh.FetchModelsOf))
	ch.GET("/:id", handle(rh.GetChannel))
	ch.POST("/", handle(rh.CreateChannel))
	ch.PUT("/", handle(rh.UpdateChannel))
	ch.POST("/:id/keys/:index/enable", handle(rh.EnableChannelKey))
	ch.POST("/batch", handle(rh.DeleteChannels))
	ch.POST("/copy/:id", handle(rh.CopyChannel))
	ch.POST("/fix", handle(rh.FixChannelAbilities))
	ch.DELETE("/disabled", handle(rh.DeleteDisabledChannels))
	ch.DELETE("/:id", handle(rh.DeleteChannel))
}
