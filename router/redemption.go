package router

import "github.com/gin-gonic/gin"

func redemptionRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	r := api.Group("/redemption", d.auth.Admin())
	r.GET("/", h.ListRedemptions)
	r.GET("/search", h.SearchRedemptions)
	r.GET("/:id", h.GetRedemption)
	r.POST("/", h.CreateRedemptions)
	r.PUT("/", h.UpdateRedemption)
	r.DELETE("/:id", h.DeleteRedemption)
}
