package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
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
		return "", errs.BadRequest("verification code is wrong or expired: request a new one").WithParam("verification_code")
	}
	return addr, nil
}

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
