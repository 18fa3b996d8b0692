package controller

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// logFilter reads One API's log filters from the query. self pins the
// caller's own rows and ignores username.
func logFilter(c *gin.Context, self bool) (model.LogFilter, error) {
	var f model.LogFilter
	num := func(name string) (int64, error) {
		raw := c.Query(name)
		if raw == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return 0, errs.BadRequest("%s must be a non-negative whole number", name).WithParam(name)
		}
		return n, nil
	}
	typ, err := num("type")
	if err != nil {
		return f, err
	}
	if typ > model.LogSystem {
		return f, errs.BadRequest("type must be 0 (all), 1 (top-up), 2 (consume), 3 (manage) or 4 (system)").WithParam("type")
	}
	channel, err := num("channel")
	if err != nil {
		return f, err
	}
	if f.Start, err = num("start_timestamp"); err != nil {
		return f, err
	}
	if f.End, err = num("end_timestamp"); err != nil {
		return f, err
	}
	f.Type, f.ChannelID = int(typ), int(channel)
	f.TokenName = c.Query("token_name")
	f.ModelName = c.Query("model_name")
	f.Keyword = c.Query("keyword")
	if !self {
		f.Username = c.Query("username")
	} else {
		f.UserID = c.GetInt(middleware.KeyUserID)
	}
	for name, v := range map[string]string{"token_name": f.TokenName, "model_name": f.ModelName, "username": f.Username, "keyword": f.Keyword} {
		if len(v) > 256 {
			return f, errs.BadRequest("%s is too long", name).WithParam(name)
		}
	}
	return f, nil
}

func (h *Handler) listLogs(c *gin.Context, self bool) error {
	f, err := logFilter(c, self)
	if err != nil {
		return err
	}
	offset, limit := page(c)
	rows, more, err := h.Store.ListLogs(c.Request.Context(), f, offset, limit)
	if err != nil {
		return err
	}
	// No total here: counting millions of rows costs more than the page.
	// has_more tells a console whether to offer the next page.
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "", "data": rows, "has_more": more})
	return nil
}

// ListAllLogs pages through everyone's logs (GET /api/log/, admin).
func (h *Handler) ListAllLogs(c *gin.Context) error { return h.listLogs(c, false) }

// ListSelfLogs pages through the caller's logs (GET /api/log/self).
func (h *Handler) ListSelfLogs(c *gin.Context) error { return h.listLogs(c, true) }

func (h *Handler) statLogs(c *gin.Context, self bool) error {
	f, err := logFilter(c, self)
	if err != nil {
		return err
	}
	st, err := h.Store.StatLogs(c.Request.Context(), f)
	if err != nil {
		return err
	}
	ok(c, st)
	return nil
}

// StatAllLogs sums quota and tokens over the filters (GET /api/log/stat).
func (h *Handler) StatAllLogs(c *gin.Context) error { return h.statLogs(c, false) }

// StatSelfLogs is StatAllLogs over the caller's rows (GET /api/log/self/stat).
func (h *Handler) StatSelfLogs(c *gin.Context) error { return h.statLogs(c, true) }

// DeleteLogs removes logs older than target_timestamp (DELETE /api/log/);
// data is how many rows went.
func (h *Handler) DeleteLogs(c *gin.Context) error {
	ts, err := strconv.ParseInt(c.Query("target_timestamp"), 10, 64)
	if err != nil || ts <= 0 {
		return errs.BadRequest("target_timestamp must be a unix time in seconds").WithParam("target_timestamp")
	}
	n, err := h.Store.DeleteLogsBefore(c.Request.Context(), ts)
	if err != nil {
		return err
	}
	ok(c, n)
	return nil
}

// Dashboard buckets the caller's consume logs by day and model over the
// last ?days= days (default 7, at most 90) for the console's charts
// (GET /api/user/dashboard). Admins may ask for everyone with ?scope=all.
func (h *Handler) Dashboard(c *gin.Context) error {
	days := 7
	if raw := c.Query("days"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 90 {
			return errs.BadRequest("days must be 1 to 90").WithParam("days")
		}
		days = n
	}
	userID := c.GetInt(middleware.KeyUserID)
	switch c.Query("scope") {
	case "", "self":
	case "all":
		if c.GetInt(middleware.KeyRole) < model.RoleAdmin {
			return errs.Forbidden("only admins may see everyone's usage")
		}
		userID = 0
	default:
		return errs.BadRequest("scope must be self or all").WithParam("scope")
	}
	today := time.Now().Unix() / 86400 * 86400
	start := today - int64(days-1)*86400
	rows, err := h.Store.Dashboard(c.Request.Context(), userID, start)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []model.DashboardRow{}
	}
	ok(c, rows)
	return nil
}
