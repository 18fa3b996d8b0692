package controller

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
)

// GetOptions lists every option except secrets (GET /api/option/), as One
// API does: data is an array of {key, value}.
func (h *Handler) GetOptions(c *gin.Context) error {
	ok(c, h.Store.Options.Public())
	return nil
}

type optionRequest struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// UpdateOption sets one option (PUT /api/option/ {key, value}). The value
// may be sent as a string, as One API's console does, or as a bare JSON
// boolean or number.
func (h *Handler) UpdateOption(c *gin.Context) error {
	var req optionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Key == "" {
		return errs.BadRequest("key is required").WithParam("key")
	}
	value, err := optionValue(req.Value)
	if err != nil {
		return err
	}
	if err := h.Store.Options.Set(c.Request.Context(), req.Key, value); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
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
