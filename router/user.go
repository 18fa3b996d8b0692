package router

import "github.com/gin-gonic/gin"

func userRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	user := api.Group("/user")
	user.POST("/register", d.critical, d.turnstile, handle(h.Register))
	user.POST("/login", d.critical, handle(h.Login))
	user.GET("/logout", handle(h.Logout))
	// One API's reset page sends no Turnstile token; the one-time token
	// from the mail is the proof.
	user.POST("/reset", d.critical, handle(h.ResetPassword))

	self := user.Group("", d.auth.User())
	self.GET("/self", handle(h.GetSelf))
	self.GET("/self/groups", handle(h.UsableGroups))
	self.PUT("/self", handle(h.UpdateSelf))
	self.DELETE("/self", handle(h.DeleteSelf))
	self.GET("/token", handle(h.GenerateAccessToken))
	self.GET("/aff", handle(h.GetAffCode))
	self.POST("/topup", d.critical, handle(h.TopUp))
	self.GET("/dashboard", handle(h.Dashboard))

	admin := user.Group("", d.auth.Admin())
	admin.GET("/", handle(h.ListUsers))
	admin.GET("/search", handle(h.SearchUsers))
	admin.GET("/:id", handle(h.GetUser))
	admin.POST("/", handle(h.CreateUser))
	admin.POST("/manage", handle(h.ManageUser))
	admin.PUT("/", handle(h.UpdateUser))
	admin.PUT("/:id", handle(h.UpdateUser))
	admin.DELETE("/:id", handle(h.DeleteUser))
	admin.DELETE("/:id/bindings/:binding_type", handle(h.ClearUserBinding))
}
