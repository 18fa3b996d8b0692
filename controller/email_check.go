package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// checkRegistrationEmail validates a registering user's email against the
// domain whitelist and, when EmailVerificationEnabled is on, consumes the
// code that GET /api/verification mailed to it.
func (h *Handler) checkRegistrationEmail(c *gin.Context, email, code string) (string, error) {
	snap := h.Store.Options.Get()
	addr, err := validEmail(email)
	if err != nil {
		return "", err
	}
	if err := allowedDomain(snap, addr); err != nil {
		return "", err
	}
	if !snap.Bool("EmailVerificationEnabled") {
		return addr, nil
	}
	okCode, err := h.Store.Codes.Take(c.Request.Context(), model.PurposeEmailVerify, addr, strings.TrimSpace(code))
	if err != nil {
		return "", errs.Internal(err)
	}
	if !okCode {
		return "", errVerificationCode.WithParam("verification_code")
	}
	return addr, nil
}

// errVerificationCode refuses a mailed code that is wrong, used or expired.
var errVerificationCode = errs.BadRequest("verification code is wrong or expired: request a new one").WithCode("verification_code_wrong")

// allowedDomain applies EmailDomainRestrictionEnabled/EmailDomainWhitelist.
func allowedDomain(snap *model.OptionSnapshot, addr string) error {
	if !snap.Bool("EmailDomainRestrictionEnabled") {
		return nil
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	for _, d := range strings.Split(snap.String("EmailDomainWhitelist"), ",") {
		if strings.EqualFold(strings.TrimSpace(d), domain) {
			return nil
		}
	}
	return errs.BadRequest("email addresses at %s are not accepted here", domain).WithParam("email")
}

// BindEmail sets the signed-in user's email to an address they have shown
// they read (GET /api/oauth/email/bind?email=&code=, One API's path): the
// code is the one GET /api/verification mailed there. It is how an
// account made without an email (root, or any account while
// EmailVerificationEnabled was off) gets one for password resets. An
// address another account uses is refused before the code is spent.
func (h *Handler) BindEmail(c *gin.Context) error {
	addr, err := validEmail(c.Query("email"))
	if err != nil {
		return err
	}
	if err := allowedDomain(h.Store.Options.Get(), addr); err != nil {
		return err
	}
	ctx := c.Request.Context()
	self := c.GetInt(middleware.KeyUserID)
	if u, err := h.Store.UserByEmail(ctx, addr); err == nil && u.ID != self {
		return errs.BadRequest("%s is used by another account", addr).WithParam("email").WithCode("email_taken")
	} else if err != nil && errs.As(err).Status >= 500 {
		return err
	}
	okCode, err := h.Store.Codes.Take(ctx, model.PurposeEmailVerify, addr, strings.TrimSpace(c.Query("code")))
	if err != nil {
		return errs.Internal(err)
	}
	if !okCode {
		return errVerificationCode.WithParam("code")
	}
	if err := h.Store.UpdateUserFields(ctx, self, map[string]any{"email": addr}); err != nil {
		return err
	}
	ok(c, nil)
	return nil
}
