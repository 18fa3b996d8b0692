package controller

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/common/mail"
	"switchyard/model"
)

// Lengths of what the mails carry.
const (
	verifyCodeDigits = 6
	resetTokenLen    = 32
	resetPasswordLen = 12
)

// errMailNotConfigured answers before anything is looked up, so it says
// nothing about which addresses exist.
var errMailNotConfigured = errs.New(http.StatusServiceUnavailable, errs.KindUnavailable,
	"email is not set up on this server: the administrator must set the SMTPServer option")

// sendMail delivers m and turns a failure into a 502 whose cause goes to
// the log, not to the anonymous caller.
func (h *Handler) sendMail(c *gin.Context, s mail.Settings, m mail.Message) error {
	err := mail.Send(c.Request.Context(), s, m)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mail.ErrNotConfigured):
		return errMailNotConfigured
	default:
		return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream,
			Message: "could not send the email; try again later, or tell the administrator (the server log has the cause)", Err: err}
	}
}

// SendEmailVerification mails a 6-digit code that registration takes
// (GET /api/verification?email=). An address already in use is refused.
// The code is stored only once the mail has gone, so a failed send leaves
// nothing behind and an earlier code still works.
func (h *Handler) SendEmailVerification(c *gin.Context) error {
	snap := h.Store.Options.Get()
	addr, err := validEmail(c.Query("email"))
	if err != nil {
		return err
	}
	if err := allowedDomain(snap, addr); err != nil {
		return err
	}
	ms := snap.MailSettings()
	if ms.Server == "" {
		return errMailNotConfigured
	}
	ctx := c.Request.Context()
	if _, err := h.Store.UserByEmail(ctx, addr); err == nil {
		return errs.BadRequest("%s is already registered: sign in, or reset the password", addr).WithParam("email")
	} else if errs.As(err).Status >= 500 {
		return err
	}
	code := crypto.RandomDigits(verifyCodeDigits)
	name := snap.String("SystemName")
	msg := mail.Message{
		To:      addr,
		Subject: name + " email verification",
		Body: fmt.Sprintf("Hello,\n\nyour %s verification code is %s\n\nIt is valid for %d minutes. If you did not ask for it, ignore this mail.\n",
			name, code, int(model.CodeTTL.Minutes())),
	}
	return h.mailSecret(c, ms, msg, model.PurposeEmailVerify, addr, code)
}

// SendPasswordResetEmail mails a one-time reset link
// (GET /api/reset_password?email=). It answers success for an address
// nobody uses too, so the reply does not tell which addresses exist.
func (h *Handler) SendPasswordResetEmail(c *gin.Context) error {
	snap := h.Store.Options.Get()
	addr, err := validEmail(c.Query("email"))
	if err != nil {
		return err
	}
	ms := snap.MailSettings()
	if ms.Server == "" {
		return errMailNotConfigured
	}
	ctx := c.Request.Context()
	if _, err := h.Store.UserByEmail(ctx, addr); err != nil {
		if errs.As(err).Status >= 500 {
			return err
		}
		okMsg(c, "")
		return nil
	}
	token := crypto.RandomString(resetTokenLen)
	link := strings.TrimRight(snap.String("ServerAddress"), "/") + "/user/reset?" +
		url.Values{"email": {addr}, "token": {token}}.Encode()
	name := snap.String("SystemName")
	msg := mail.Message{
		To:      addr,
		Subject: name + " password reset",
		Body: fmt.Sprintf("Hello,\n\nsomeone asked to reset the %s password of this address. To get a new password, open\n\n%s\n\nThe link works once, for %d minutes. If it was not you, ignore this mail.\n",
			name, link, int(model.CodeTTL.Minutes())),
	}
	return h.mailSecret(c, ms, msg, model.PurposePasswordReset, addr, token)
}

type resetPasswordRequest struct {
	Email string `json:"email"`
	Token string `json:"token"`
}

// ResetPassword redeems a reset link (POST /api/user/reset {email, token}).
// As in One API, it sets a new random password and returns it in data;
// the token works once.
func (h *Handler) ResetPassword(c *gin.Context) error {
	var req resetPasswordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	addr, err := validEmail(req.Email)
	if err != nil {
		return err
	}
	invalid := errs.BadRequest("the reset link is wrong, used or expired: ask for a new one").WithParam("token")
	if req.Token == "" || len(req.Token) > 2*resetTokenLen {
		return invalid
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByEmail(ctx, addr)
	if err != nil {
		if errs.As(err).Status >= 500 {
			return err
		}
		return invalid
	}
	password := crypto.RandomString(resetPasswordLen)
	hash, err := crypto.HashPassword(password, h.Cfg.BcryptCost)
	if err != nil {
		return errs.Internal(err)
	}
	taken, err := h.Store.Codes.Take(ctx, model.PurposePasswordReset, addr, req.Token)
	if err != nil {
		return errs.Internal(err)
	}
	if !taken {
		return invalid
	}
	if err := h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"password": hash}); err != nil {
		return err
	}
	ok(c, password)
	return nil
}

// mailSecret sends msg and, only once the server accepted it, stores the
// one-time secret it carries, so a failed send leaves the earlier code or
// link working; then it answers.
func (h *Handler) mailSecret(c *gin.Context, ms mail.Settings, msg mail.Message, purpose, addr, secret string) error {
	if err := h.sendMail(c, ms, msg); err != nil {
		return err
	}
	if err := h.Store.Codes.Put(c.Request.Context(), purpose, addr, secret); err != nil {
		return errs.Internal(err)
	}
	okMsg(c, "")
	return nil
}
