package router

import "github.com/gin-gonic/gin"

func tokenRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	tok := api.Group("/token", d.auth.User())
	tok.GET("/", handle(h.ListTokens))
	tok.GET("/search", handle(h.SearchTokens))
	tok.GET("/:id", handle(h.GetToken))
	tok.POST("/", handle(h.CreateToken))
	tok.PUT("/", handle(h.UpdateToken))
	tok.POST("/batch", handle(h.DeleteTokens))
	tok.DELETE("/:id", handle(h.DeleteToken))
}
