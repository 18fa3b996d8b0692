package controller

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
)

// GetOptions lists every option except secrets (GET /api/option/), as One
// API does: data is an array of {key, value}.
func (h *Handler) GetOptions(c *gin.Context) {
	ok(c, h.Store.Options.Public())
}

type optionRequest struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// UpdateOption sets one option (PUT /api/option/ {key, value}). The value
// may be sent as a string, as One API's console does, or as a bare JSON
// boolean or number.
func (h *Handler) UpdateOption(c *gin.Context) {
	var req optionRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	if req.Key == "" {
		errs.Render(c, errs.BadRequest("key is required").WithParam("key"))
		return
	}
	value, err := optionValue(req.Value)
	if err != nil {
		errs.Render(c, err)
		return
	}
	if err := h.Store.Options.Set(c.Request.Context(), req.Key, value); err != nil {
		errs.Render(c, err)
		return
	}
	okMsg(c, "")
}

// optionValue turns the JSON value into the option's text form.
func optionValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errs.BadRequest("value is required").WithParam("value")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return strconv.FormatBool(b), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errs.BadRequest("value must be a string, a number or a boolean").WithParam("value")
}
