package router

import "github.com/gin-gonic/gin"

func redemptionRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	r := api.Group("/redemption", d.auth.Admin())
	r.GET("/", handle(h.ListRedemptions))
	r.GET("/search", handle(h.SearchRedemptions))
	r.GET("/:id", handle(h.GetRedemption))
	r.POST("/", handle(h.CreateRedemptions))
	r.PUT("/", handle(h.UpdateRedemption))
	r.DELETE("/invalid", handle(h.DeleteInvalidRedemptions))
	r.DELETE("/:id", handle(h.DeleteRedemption))
}
