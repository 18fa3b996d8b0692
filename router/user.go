package router

import "github.com/gin-gonic/gin"

func userRoutes(api *gin.RouterGroup, d *deps) {
	h := d.h
	user := api.Group("/user")
	user.POST("/register", d.critical, d.turnstile, h.Register)
	user.POST("/login", d.critical, h.Login)
	user.GET("/logout", h.Logout)
	// One API's reset page sends no Turnstile token; the one-time token
	// from the mail is the proof.
	user.POST("/reset", d.critical, h.ResetPassword)

	self := user.Group("", d.auth.User())
	self.GET("/self", h.GetSelf)
	self.PUT("/self", h.UpdateSelf)
	self.DELETE("/self", h.DeleteSelf)
	self.GET("/token", h.GenerateAccessToken)
	self.GET("/aff", h.GetAffCode)
	self.POST("/topup", d.critical, h.TopUp)
	self.GET("/dashboard", h.Dashboard)

	admin := user.Group("", d.auth.Admin())
	admin.GET("/", h.ListUsers)
	admin.GET("/search", h.SearchUsers)
	admin.GET("/:id", h.GetUser)
	admin.POST("/", h.CreateUser)
	admin.POST("/manage", h.ManageUser)
	admin.PUT("/", h.UpdateUser)
	admin.PUT("/:id", h.UpdateUser)
	admin.DELETE("/:id", h.DeleteUser)
}
