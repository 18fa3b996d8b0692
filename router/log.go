package router

import "github.com/gin-gonic/gin"

func logRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	l := api.Group("/log")
	l.GET("/self", d.auth.User(), handle(h.ListSelfLogs))
	l.GET("/self/search", d.auth.User(), handle(h.ListSelfLogs))
	l.GET("/self/stat", d.auth.User(), handle(h.StatSelfLogs))
	l.GET("/", d.auth.Admin(), handle(h.ListAllLogs))
	l.GET("/search", d.auth.Admin(), handle(h.ListAllLogs))
	l.GET("/stat", d.auth.Admin(), handle(h.StatAllLogs))
	l.DELETE("/", d.auth.Admin(), handle(h.DeleteLogs))
}
