package router

import "github.com/gin-gonic/gin"

func tokenRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	tok := api.Group("/token", d.auth.User())
	tok.GET("/", h.ListTokens)
	tok.GET("/search", h.SearchTokens)
	tok.GET("/:id", h.GetToken)
	tok.POST("/", h.CreateToken)
	tok.PUT("/", h.UpdateToken)
	tok.DELETE("/:id", h.DeleteToken)
}
