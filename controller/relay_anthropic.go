package controller

import (
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	anthropicfront "switchyard/relay/front/anthropic"
)

// anthropicModel is one model in Anthropic's list shape.
type anthropicModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

func anthropicModelOf(name string) anthropicModel {
	// The relay knows neither a display name nor a release date: the id
	// and the same fixed date the OpenAI list reports.
	return anthropicModel{Type: "model", ID: name, DisplayName: name, CreatedAt: time.Unix(modelsCreated, 0).UTC().Format(time.RFC3339)}
}

// asksAnthropic reports whether the caller is an Anthropic client: its
// SDKs always send anthropic-version.
func asksAnthropic(c *gin.Context) bool { return c.GetHeader("anthropic-version") != "" }

// anthropicModels answers GET /v1/models in Anthropic's paged list shape:
// limit (1..1000, default 20), after_id and before_id cursors. Models are
// in name order, so a cursor that names no listed model still marks a
// place in it.
func (h *Relay) anthropicModels(c *gin.Context, names []string) error {
	limit := 20
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errs.BadRequest("limit: must be a whole number from 1 to 1000").WithParam("limit")
		}
		limit = n
	}
	after, before := c.Query("after_id"), c.Query("before_id")
	if after != "" && before != "" {
		return errs.BadRequest("after_id and before_id cannot both be given")
	}
	page, more := names, false
	switch {
	case before != "":
		page = names[:sort.SearchStrings(names, before)]
		if len(page) > limit {
			page, more = page[len(page)-limit:], true
		}
	default:
		if after != "" {
			i := sort.SearchStrings(names, after)
			if i < len(names) && names[i] == after {
				i++
			}
			page = names[i:]
		}
		if len(page) > limit {
			page, more = page[:limit], true
		}
	}
	data := make([]anthropicModel, len(page))
	for i, n := range page {
		data[i] = anthropicModelOf(n)
	}
	var first, last any
	if len(page) > 0 {
		first, last = page[0], page[len(page)-1]
	}
	c.JSON(200, gin.H{"data": data, "has_more": more, "first_id": first, "last_id": last})
	return nil
}

// CountTokens answers POST /v1/messages/count_tokens in Anthropic's shape,
// {"input_tokens": N}: exact from an Anthropic channel serving the model,
// else counted locally. Not billed.
func (h *Relay) CountTokens(c *gin.Context) error {
	req, err := anthropicfront.ParseCount(c.Request)
	if err != nil {
		return err
	}
	n, err := h.Engine.CountTokens(c.Request.Context(), caller(c), req)
	if err != nil {
		return err
	}
	c.JSON(200, gin.H{"input_tokens": n.InputTokens})
	return nil
}
