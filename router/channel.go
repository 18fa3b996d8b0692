package router

import (
	"github.com/gin-gonic/gin"

	"switchyard/controller"
)

// channelRoutes are the admin channel endpoints, One API's contract.
func channelRoutes(api *gin.RouterGroup, d *deps, rh *controller.Relay) {
	ch := api.Group("/channel", d.auth.Admin())
	ch.GET("/", rh.ListChannels)
	ch.GET("/search", rh.SearchChannels)
	ch.GET("/models", rh.ChannelModels)
	ch.GET("/types", rh.ChannelTypes)
	ch.GET("/test", rh.TestAllChannels)
	ch.GET("/test/:id", rh.TestChannel)
	ch.GET("/update_balance", rh.UpdateAllBalances)
	ch.GET("/update_balance/:id", rh.UpdateChannelBalance)
	ch.GET("/:id", rh.GetChannel)
	ch.POST("/", rh.CreateChannel)
	ch.PUT("/", rh.UpdateChannel)
	ch.POST("/:id/keys/:index/enable", rh.EnableChannelKey)
	ch.DELETE("/disabled", rh.DeleteDisabledChannels)
	ch.DELETE("/:id", rh.DeleteChannel)
}
