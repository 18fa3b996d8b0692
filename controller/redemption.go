package controller

import (
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// maxRedemptionCount caps codes made in one request, as One API does.
const maxRedemptionCount = 100

// ListRedemptions pages through all codes (GET /api/redemption/).
func (h *Handler) ListRedemptions(c *gin.Context) error {
	offset, limit := page(c)
	rows, total, err := h.Store.ListRedemptions(c.Request.Context(), offset, limit)
	if err != nil {
		return err
	}
	okPage(c, rows, total)
	return nil
}

// SearchRedemptions matches codes by id or name (GET /api/redemption/search).
func (h *Handler) SearchRedemptions(c *gin.Context) error {
	keyword := c.Query("keyword")
	if len(keyword) > 256 {
		return errs.BadRequest("keyword is too long").WithParam("keyword")
	}
	offset, limit := page(c)
	rows, err := h.Store.SearchRedemptions(c.Request.Context(), keyword, offset, limit)
	if err != nil {
		return err
	}
	ok(c, rows)
	return nil
}

// GetRedemption returns one code (GET /api/redemption/:id).
func (h *Handler) GetRedemption(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Store.RedemptionByID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	ok(c, r)
	return nil
}

type redemptionRequest struct {
	ID     int     `json:"id"`
	Name   *string `json:"name"`
	Quota  *int64  `json:"quota"`
	Count  int     `json:"count"`
	Status *int    `json:"status"`
}

func checkRedemptionName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxTokenName || !utf8.ValidString(name) {
		return "", errs.BadRequest("name must be 1 to %d characters", maxTokenName).WithParam("name")
	}
	return name, nil
}

// CreateRedemptions makes up to 100 codes (POST /api/redemption/); data is
// the array of new codes.
func (h *Handler) CreateRedemptions(c *gin.Context) error {
	var req redemptionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return errs.BadRequest("name is required").WithParam("name")
	}
	name, err := checkRedemptionName(*req.Name)
	if err != nil {
		return err
	}
	if req.Quota == nil || *req.Quota <= 0 {
		return errs.BadRequest("quota must be a positive whole number").WithParam("quota")
	}
	if req.Count == 0 {
		req.Count = 1
	}
	if req.Count < 1 || req.Count > maxRedemptionCount {
		return errs.BadRequest("count must be 1 to %d", maxRedemptionCount).WithParam("count")
	}
	rows, err := h.Store.CreateRedemptions(c.Request.Context(), c.GetInt(middleware.KeyUserID), name, *req.Quota, req.Count)
	if err != nil {
		return err
	}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.Key
	}
	ok(c, keys)
	return nil
}

// UpdateRedemption edits an unused code (PUT /api/redemption/, id in the
// body; ?status_only=1 changes only the status).
func (h *Handler) UpdateRedemption(c *gin.Context) error {
	var req redemptionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.ID <= 0 {
		return errs.BadRequest("id is required").WithParam("id")
	}
	f := map[string]any{}
	if req.Status != nil {
		if *req.Status != model.RedemptionEnabled && *req.Status != model.RedemptionDisabled {
			return errs.BadRequest("status must be 1 (enabled) or 2 (disabled)").WithParam("status")
		}
		f["status"] = *req.Status
	}
	if c.Query("status_only") == "" {
		if req.Name != nil {
			name, err := checkRedemptionName(*req.Name)
			if err != nil {
				return err
			}
			f["name"] = name
		}
		if req.Quota != nil {
			if *req.Quota <= 0 {
				return errs.BadRequest("quota must be a positive whole number").WithParam("quota")
			}
			f["quota"] = *req.Quota
		}
	} else if req.Status == nil {
		return errs.BadRequest("status is required").WithParam("status")
	}
	ctx := c.Request.Context()
	if len(f) > 0 {
		if err := h.Store.UpdateRedemption(ctx, req.ID, f); err != nil {
			return err
		}
	}
	r, err := h.Store.RedemptionByID(ctx, req.ID)
	if err != nil {
		return err
	}
	ok(c, r)
	return nil
}

// DeleteInvalidRedemptions removes every used or disabled code
// (DELETE /api/redemption/invalid, new-api's path); data is how many went.
func (h *Handler) DeleteInvalidRedemptions(c *gin.Context) error {
	n, err := h.Store.DeleteInvalidRedemptions(c.Request.Context())
	if err != nil {
		return err
	}
	ok(c, n)
	return nil
}

// DeleteRedemption removes a code (DELETE /api/redemption/:id).
func (h *Handler) DeleteRedemption(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteRedemption(c.Request.Context(), id); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
}

type topUpRequest struct {
	Key string `json:"key"`
}

// TopUp redeems a code for the caller (POST /api/user/topup); data is the
// quota credited.
func (h *Handler) TopUp(c *gin.Context) error {
	var req topUpRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key := strings.TrimSpace(req.Key)
	if key == "" {
		return errs.BadRequest("key is required").WithParam("key")
	}
	if len(key) != model.RedemptionKeyLen {
		return model.ErrRedemptionInvalid
	}
	who := model.Redeemer{ID: c.GetInt(middleware.KeyUserID), Username: c.GetString(middleware.KeyUsername), Role: c.GetInt(middleware.KeyRole)}
	q, err := h.Store.Redeem(c.Request.Context(), who, key)
	if err != nil {
		return err
	}
	ok(c, q)
	return nil
}
