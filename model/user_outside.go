package model

import (
	"context"
	"database/sql/driver"
	"fmt"

	"switchyard/common/errs"
)

// OutsideID is a users column that binds an outside account (github_id,
// oidc_id, wechat_id, lark_id). "" is unbound and is stored as NULL, so the column's unique
// index admits every unbound user while no two users hold one outside
// account: two first sign-ins racing make one account, not two. NULL
// reads back as "", and JSON carries a plain string ("" for unbound), as
// One API's clients expect.
type OutsideID string

// Value stores "" as NULL.
func (id OutsideID) Value() (driver.Value, error) {
	if id == "" {
		return nil, nil
	}
	return string(id), nil
}

// Scan reads NULL as "".
func (id *OutsideID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*id = ""
	case string:
		*id = OutsideID(v)
	case []byte:
		*id = OutsideID(v)
	default:
		return fmt.Errorf("outside id: cannot read a %T", src)
	}
	return nil
}

// CodeOutsideIDTaken is the error code of a write refused because another
// user is bound to the outside account it names: CreateUser's and
// UpdateUserFields' answer when they lose a race to a sign-in or bind
// that looked at the same moment and saw nobody.
const CodeOutsideIDTaken = "outside_id_taken"

// outsideTaken explains a unique violation of a write to user self (0
// for one being created) that set fields: CodeOutsideIDTaken when another
// user already holds one of its outside ids, nil when none is the cause.
// It runs after the failed write, whose transaction is over: the row that
// won is committed by then, since a unique check waits for the insert it
// collides with (MySQL, PostgreSQL) or SQLite runs one writer at a time.
func (s *Store) outsideTaken(ctx context.Context, self int, fields map[string]any) error {
	for _, col := range outsideColumns {
		var id string
		switch v := fields[col].(type) {
		case OutsideID:
			id = string(v)
		case string:
			id = v
		}
		if id == "" {
			continue
		}
		var n int64
		if err := s.DB.WithContext(ctx).Model(&User{}).Where(col+" = ? AND id <> ?", id, self).Count(&n).Error; err != nil {
			return errs.Internal(err)
		}
		if n > 0 {
			return errs.BadRequest("this outside account (%s) is bound to another user", col).WithCode(CodeOutsideIDTaken).WithParam(col)
		}
	}
	return nil
}

// bindingColumns maps the binding types an admin may clear (new-api's
// DELETE /api/user/:id/bindings/:binding_type) to their users column.
var bindingColumns = map[string]string{
	"github": OutsideGitHub,
	"oidc":   OutsideOIDC,
	"wechat": OutsideWeChat,
	"lark":   OutsideLark,
	"email":  "email",
}

// ClearUserBinding unbinds user id from one outside account, or clears
// its email, by binding type: github, oidc, wechat, lark or email.
// Clearing what is not bound succeeds and changes nothing.
func (s *Store) ClearUserBinding(ctx context.Context, id int, bindingType string) error {
	col, ok := bindingColumns[bindingType]
	if !ok {
		return errs.BadRequest("binding_type must be one of github, oidc, wechat, lark, email").WithParam("binding_type")
	}
	return s.UpdateUserFields(ctx, id, map[string]any{col: ""})
}
