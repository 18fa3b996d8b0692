package controller

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// Limits on token fields.
const (
	maxTokenName   = 64
	maxModelsText  = 8192
	maxSubnetsText = 1024
)

// tokenView is a token as the API shows it: the key masked, never whole.
type tokenView struct {
	model.Token
	Key string `json:"key"`
}

func viewToken(t *model.Token) tokenView { return tokenView{Token: *t, Key: t.DisplayKey()} }

func viewTokens(ts []model.Token) []tokenView {
	out := make([]tokenView, len(ts))
	for i := range ts {
		out[i] = viewToken(&ts[i])
	}
	return out
}

// ListTokens pages through the caller's own tokens (GET /api/token/).
func (h *Handler) ListTokens(c *gin.Context) error {
	offset, limit := page(c)
	ts, total, err := h.Store.ListTokens(c.Request.Context(), c.GetInt(middleware.KeyUserID), offset, limit)
	if err != nil {
		return err
	}
	okPage(c, viewTokens(ts), total)
	return nil
}

// SearchTokens matches the caller's tokens by name (GET /api/token/search).
func (h *Handler) SearchTokens(c *gin.Context) error {
	keyword := c.Query("keyword")
	if len(keyword) > maxTokenName*4 {
		return errs.BadRequest("keyword is too long").WithParam("keyword")
	}
	offset, limit := page(c)
	ts, err := h.Store.SearchTokens(c.Request.Context(), c.GetInt(middleware.KeyUserID), keyword, offset, limit)
	if err != nil {
		return err
	}
	ok(c, viewTokens(ts))
	return nil
}

// GetToken returns one of the caller's tokens (GET /api/token/:id).
// Another user's token answers as if it did not exist.
func (h *Handler) GetToken(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	t, err := h.Store.TokenOf(c.Request.Context(), c.GetInt(middleware.KeyUserID), id)
	if err != nil {
		return err
	}
	ok(c, viewToken(t))
	return nil
}

type tokenRequest struct {
	ID             int     `json:"id"`
	Name           *string `json:"name"`
	Status         *int    `json:"status"`
	RemainQuota    *int64  `json:"remain_quota"`
	ExpiredTime    *int64  `json:"expired_time"`
	UnlimitedQuota *bool   `json:"unlimited_quota"`
	Models         *string `json:"models"`
	Subnet         *string `json:"subnet"`
	Group          *string `json:"group"`
	// The token's rate limits; only the fields sent change.
	model.LimitPatch
	// The token's period quota (period_quota, quota_period).
	model.PeriodPatch
}

// checkTokenFields validates whatever fields req carries and returns the
// column updates they make (remain_quota aside: that is the ledger's).
// curGroup is the token's group now ("" for a new token).
func (h *Handler) checkTokenFields(c *gin.Context, req *tokenRequest, curGroup string) (map[string]any, error) {
	f, err := req.LimitPatch.Columns()
	if err != nil {
		return nil, err
	}
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if name == "" || utf8.RuneCountInString(name) > maxTokenName || !utf8.ValidString(name) {
			return nil, errs.BadRequest("name must be 1 to %d characters", maxTokenName).WithParam("name")
		}
		f["name"] = name
	}
	if req.RemainQuota != nil && *req.RemainQuota < 0 {
		return nil, errs.BadRequest("remain_quota cannot be negative").WithParam("remain_quota")
	}
	if req.ExpiredTime != nil {
		e := *req.ExpiredTime
		if e != -1 && e <= time.Now().Unix() {
			return nil, errs.BadRequest("expired_time must be -1 (never) or a future unix time in seconds").WithParam("expired_time")
		}
		f["expired_time"] = e
	}
	if req.UnlimitedQuota != nil {
		f["unlimited_quota"] = *req.UnlimitedQuota
	}
	if req.Models != nil {
		if len(*req.Models) > maxModelsText {
			return nil, errs.BadRequest("models must be at most %d bytes", maxModelsText).WithParam("models")
		}
		f["models"] = strings.Join(model.SplitList(*req.Models), ",")
	}
	if req.Subnet != nil {
		if len(*req.Subnet) > maxSubnetsText {
			return nil, errs.BadRequest("subnet must be at most %d bytes", maxSubnetsText).WithParam("subnet")
		}
		list := model.SplitList(*req.Subnet)
		for _, s := range list {
			if _, err := model.ParseSubnet(s); err != nil {
				return nil, errs.BadRequest("subnet %q is not an IP address or CIDR", s).WithParam("subnet")
			}
		}
		f["subnet"] = strings.Join(list, ",")
	}
	switch {
	case req.Group == nil || *req.Group == curGroup && curGroup != "":
		// Absent, or the group the token has already (an admin's choice,
		// or one since taken off a list) sent back unchanged by an edit.
	case *req.Group == "":
		f["group"] = ""
	default:
		if err := h.validGroup(*req.Group); err != nil {
			return nil, err
		}
		// A cheaper group is a privilege: a user gives a token their own
		// group or one UserUsableGroups offers; admins any.
		if c.GetInt(middleware.KeyRole) < model.RoleAdmin {
			if _, usable := model.UsableGroups(h.Store.Options.Get(), c.GetString(middleware.KeyGroup))[*req.Group]; !usable {
				return nil, errs.Forbidden("group %q is not one you may give a token: see GET /api/user/self/groups", *req.Group).WithParam("group")
			}
		}
		f["group"] = *req.Group
	}
	return f, nil
}

// CreateToken issues a token (POST /api/token/). The whole key is in this
// reply as data.key and never again.
func (h *Handler) CreateToken(c *gin.Context) error {
	var req tokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return errs.BadRequest("name is required").WithParam("name")
	}
	f, err := h.checkTokenFields(c, &req, "")
	if err != nil {
		return err
	}
	t := &model.Token{UserID: c.GetInt(middleware.KeyUserID), Name: f["name"].(string), ExpiredTime: -1}
	if v, ok := f["expired_time"].(int64); ok {
		t.ExpiredTime = v
	}
	if req.RemainQuota != nil {
		t.RemainQuota = *req.RemainQuota
	}
	if v, ok := f["unlimited_quota"].(bool); ok {
		t.UnlimitedQuota = v
	}
	if v, ok := f["models"].(string); ok {
		t.Models = v
	}
	if v, ok := f["subnet"].(string); ok {
		t.Subnet = v
	}
	if v, ok := f["group"].(string); ok {
		t.Group = v
	}
	req.LimitPatch.Apply(&t.Limits)
	if t.PeriodQuota, t.QuotaPeriod, err = req.PeriodPatch.Resolve(model.Period{}); err != nil {
		return err
	}
	key := model.NewTokenKey(t)
	if err := h.Store.CreateToken(c.Request.Context(), t); err != nil {
		return err
	}
	h.Store.Ledger.FillPeriod(&t.Period)
	v := viewToken(t)
	v.Key = key
	ok(c, v)
	return nil
}

// UpdateToken edits one of the caller's tokens (PUT /api/token/, id in the
// body). With ?status_only=1 only the status changes. Enabling an expired
// or exhausted token is refused until its expiry or quota allows it.
func (h *Handler) UpdateToken(c *gin.Context) error {
	var req tokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.ID <= 0 {
		return errs.BadRequest("id is required").WithParam("id")
	}
	ctx := c.Request.Context()
	userID := c.GetInt(middleware.KeyUserID)
	cur, err := h.Store.TokenOf(ctx, userID, req.ID)
	if err != nil {
		return err
	}
	statusOnly := c.Query("status_only") != ""
	var f map[string]any
	if statusOnly {
		if req.Status == nil {
			return errs.BadRequest("status is required").WithParam("status")
		}
		f = map[string]any{}
	} else if f, err = h.checkTokenFields(c, &req, cur.Group); err != nil {
		return err
	}
	periodReset := false
	if !statusOnly {
		quota, kind, err := req.PeriodPatch.Resolve(cur.Period)
		if err != nil {
			return err
		}
		cols := req.PeriodPatch.Columns(cur.Period, quota, kind)
		_, periodReset = cols["period_start"]
		for k, v := range cols {
			f[k] = v
		}
	}
	// What the token will look like, to decide its status.
	expires, unlimited, remain := cur.ExpiredTime, cur.UnlimitedQuota, cur.RemainQuota
	if v, ok := f["expired_time"].(int64); ok {
		expires = v
	}
	if v, ok := f["unlimited_quota"].(bool); ok {
		unlimited = v
	}
	if !statusOnly && req.RemainQuota != nil {
		remain = *req.RemainQuota
	}
	now := time.Now().Unix()
	expired := expires != -1 && expires <= now
	exhausted := !unlimited && remain <= 0
	status := cur.Status
	if req.Status != nil {
		switch *req.Status {
		case model.TokenEnabled:
			if expired {
				return errs.BadRequest("the token has expired: move its expired_time first")
			}
			if exhausted {
				return errs.BadRequest("the token's quota is used up: raise remain_quota first")
			}
		case model.TokenDisabled:
		default:
			return errs.BadRequest("status must be 1 (enabled) or 2 (disabled)").WithParam("status")
		}
		status = *req.Status
	} else {
		// Expiry and exhaustion flip the status on their own, and a fix to
		// either brings a flipped token back.
		switch {
		case status == model.TokenDisabled:
		case expired:
			status = model.TokenExpired
		case exhausted:
			status = model.TokenExhausted
		default:
			status = model.TokenEnabled
		}
	}
	f["status"] = status
	if !statusOnly && req.RemainQuota != nil && *req.RemainQuota != cur.RemainQuota {
		if _, err := h.Store.Ledger.Credit(ctx, userID, cur.ID, *req.RemainQuota-cur.RemainQuota, nil, nil); err != nil {
			return err
		}
	}
	if err := h.Store.UpdateToken(ctx, userID, cur.ID, f); err != nil {
		return err
	}
	if periodReset {
		h.Store.Ledger.ResetPeriod(ctx, userID, cur.ID)
	}
	t, err := h.Store.TokenOf(ctx, userID, cur.ID)
	if err != nil {
		return err
	}
	ok(c, viewToken(t))
	return nil
}

// DeleteToken removes one of the caller's tokens (DELETE /api/token/:id).
func (h *Handler) DeleteToken(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteToken(c.Request.Context(), c.GetInt(middleware.KeyUserID), id); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
}

// DeleteTokens removes several of the caller's tokens at once
// (POST /api/token/batch, new-api's path, body {"ids": [...]}); ids that
// are not the caller's tokens are skipped. data is how many went.
func (h *Handler) DeleteTokens(c *gin.Context) error {
	ids, err := bindIDs(c)
	if err != nil {
		return err
	}
	n, err := h.Store.DeleteTokens(c.Request.Context(), c.GetInt(middleware.KeyUserID), ids)
	if err != nil {
		return err
	}
	ok(c, n)
	return nil
}
