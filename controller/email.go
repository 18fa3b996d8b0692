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

// mailSettings reads the SMTP options of one snapshot.
func mailSettings(snap *model.OptionSnapshot) mail.Settings {
	return mail.Settings{
		Server:  strings.TrimSpace(snap.String("SMTPServer")),
		Port:    int(snap.Int("SMTPPort")),
		Account: snap.String("SMTPAccount"),
		Token:   snap.String("SMTPToken"),
		From:    snap.String("SMTPFrom"),
	}
}

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
func (h *Handler) SendEmailVerification(c *gin.Context) {
	snap := h.Store.Options.Get()
	addr, err := validEmail(c.Query("email"))
	if err != nil {
		errs.Render(c, err)
		return
	}
	if err := allowedDomain(snap, addr); err != nil {
		errs.Render(c, err)
		return
	}
	ms := mailSettings(snap)
	if ms.Server == "" {
		errs.Render(c, errMailNotConfigured)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.Store.UserByEmail(ctx, addr); err == nil {
		errs.Render(c, errs.BadRequest("%s is already registered: sign in, or reset the password", addr).WithParam("email"))
		return
	} else if errs.As(err).Status >= 500 {
		errs.Render(c, err)
		return
	}
	code := crypto.RandomDigits(verifyCodeDigits)
	name := snap.String("SystemName")
	msg := mail.Message{
		To:      addr,
		Subject: name + " email verification",
		Body: fmt.Sprintf("Hello,\n\nyour %s verification code is %s\n\nIt is valid for %d minutes. If you did not ask for it, ignore this mail.\n",
			name, code, int(model.CodeTTL.Minutes())),
	}
	h.mailSecret(c, ms, msg, model.PurposeEmailVerify, addr, code)
}

// SendPasswordResetEmail mails a one-time reset link
// (GET /api/reset_password?email=). It answers success for an address
// nobody uses too, so the reply does not tell which addresses exist.
func (h *Handler) SendPasswordResetEmail(c *gin.Context) {
	snap := h.Store.Options.Get()
	addr, err := validEmail(c.Query("email"))
	if err != nil {
		errs.Render(c, err)
		return
	}
	ms := mailSettings(snap)
	if ms.Server == "" {
		errs.Render(c, errMailNotConfigured)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.Store.UserByEmail(ctx, addr); err != nil {
		if errs.As(err).Status >= 500 {
			errs.Render(c, err)
			return
		}
		okMsg(c, "")
		return
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
	h.mailSecret(c, ms, msg, model.PurposePasswordReset, addr, token)
}

type resetPasswordRequest struct {
	Email string `json:"email"`
	Token string `json:"token"`
}

// ResetPassword redeems a reset link (POST /api/user/reset {email, token}).
// As in One API, it sets a new random password and returns it in data;
// the token works once.
func (h *Handler) ResetPassword(c *gin.Context) {
	var req resetPasswordRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	addr, err := validEmail(req.Email)
	if err != nil {
		errs.Render(c, err)
		return
	}
	invalid := errs.BadRequest("the reset link is wrong, used or expired: ask for a new one").WithParam("token")
	if req.Token == "" || len(req.Token) > 2*resetTokenLen {
		errs.Render(c, invalid)
		return
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByEmail(ctx, addr)
	if err != nil {
		if errs.As(err).Status >= 500 {
			errs.Render(c, err)
			return
		}
		errs.Render(c, invalid)
		return
	}
	password := crypto.RandomString(resetPasswordLen)
	hash, err := crypto.HashPassword(password, h.Cfg.BcryptCost)
	if err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	taken, err := h.Store.Codes.Take(ctx, model.PurposePasswordReset, addr, req.Token)
	if err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	if !taken {
		errs.Render(c, invalid)
		return
	}
	if err := h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"password": hash}); err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, password)
}

// mailSecret sends msg and, only once the server accepted it, stores the
// one-time secret it carries, so a failed send leaves the earlier code or
// link working; then it answers.
func (h *Handler) mailSecret(c *gin.Context, ms mail.Settings, msg mail.Message, purpose, addr, secret string) {
	if err := h.sendMail(c, ms, msg); err != nil {
		errs.Render(c, err)
		return
	}
	if err := h.Store.Codes.Put(c.Request.Context(), purpose, addr, secret); err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	okMsg(c, "")
}
