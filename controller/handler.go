// Package controller holds the HTTP handlers: each binds and validates its
// input, calls one model or relay function and renders the reply.
package controller

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/config"
	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/model"
)

// Version is the build's version, set by main (-ldflags) or left as "dev".
var Version = "dev"

// Handler carries what the management handlers need. main builds one.
type Handler struct {
	Cfg   config.Config
	Store *model.Store
	// Started is when the process started (shown by /api/status).
	Started time.Time

	dummyOnce sync.Once
	dummy     string
}

// dummyHash is a bcrypt hash of nothing anyone types, at the configured
// cost, so a login for an unknown user takes as long as a real check.
func (h *Handler) dummyHash() string {
	h.dummyOnce.Do(func() {
		h.dummy, _ = crypto.HashPassword("switchyard-no-such-user-"+crypto.RandomString(16), h.Cfg.BcryptCost)
	})
	return h.dummy
}

// Handle makes a handler that returns its error into a gin handler:
// the error, if any, is rendered once here, in the route's style
// (errs.Render), so handlers end in return err rather than a render and a
// bare return on every path.
func Handle(fn func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			errs.Render(c, err)
		}
	}
}

// ok answers {success: true, message: "", data}.
func ok(c *gin.Context, data any) {
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "", "data": data})
}

// okPage answers a page of a list: data is the rows, as One API's clients
// expect, and total (an addition they ignore) lets a console draw pages.
func okPage(c *gin.Context, rows any, total int64) {
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "", "data": rows, "total": total})
}

// okMsg answers success with a message and no data.
func okMsg(c *gin.Context, msg string) {
	c.JSON(http.StatusOK, gin.H{"success": true, "message": msg})
}

// bindJSON decodes the body into dst and turns decoding failures into a
// clear 400: malformed JSON, a field of the wrong type, or an empty body.
func bindJSON(c *gin.Context, dst any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
	case errors.Is(err, io.EOF):
		return errs.BadRequest("request body is empty: send a JSON object")
	case errors.As(err, &typeErr):
		return errs.BadRequest("field %q has the wrong type: want %s", typeErr.Field, typeErr.Type.String()).WithParam(typeErr.Field)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.BadRequest("request body is not valid JSON")
	default:
		return errs.BadRequest("request body is not valid JSON: %s", err.Error())
	}
}

// page reads One API's paging: p is 0-based, page_size defaults to 10 and
// is capped at 100.
func page(c *gin.Context) (offset, limit int) {
	p, _ := strconv.Atoi(c.Query("p"))
	if p < 0 {
		p = 0
	}
	limit, _ = strconv.Atoi(c.Query("page_size"))
	if limit <= 0 {
		limit = 10
	}
	if limit > 100 {
		limit = 100
	}
	return p * limit, limit
}

// idParam reads a positive integer path parameter.
func idParam(c *gin.Context, name string) (int, error) {
	id, err := atoiPositive(c.Param(name))
	if err != nil {
		return 0, errs.BadRequest("%s must be a positive whole number", name).WithParam(name)
	}
	return id, nil
}

// maxBatch bounds the ids one batch call names.
const maxBatch = 1000

// bindIDs reads new-api's batch body {"ids": [1, 2, 3]}: at least one
// id, at most maxBatch, each a positive whole number; repeats count once.
func bindIDs(c *gin.Context) ([]int, error) {
	var req struct {
		IDs []int `json:"ids"`
	}
	if err := bindJSON(c, &req); err != nil {
		return nil, err
	}
	if len(req.IDs) == 0 {
		return nil, errs.BadRequest("ids must list at least one id").WithParam("ids")
	}
	if len(req.IDs) > maxBatch {
		return nil, errs.BadRequest("ids may list at most %d ids", maxBatch).WithParam("ids")
	}
	for _, id := range req.IDs {
		if id <= 0 {
			return nil, errs.BadRequest("ids must be positive whole numbers").WithParam("ids")
		}
	}
	slices.Sort(req.IDs)
	return slices.Compact(req.IDs), nil
}

func atoiPositive(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err == nil && id <= 0 {
		err = strconv.ErrRange
	}
	return id, err
}

func itoa(n int) string { return strconv.Itoa(n) }
