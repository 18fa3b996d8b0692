package model

import (
	"context"
	"errors"
	"strings"

	"switchyard/common/errs"
	"switchyard/common/mail"
	"switchyard/common/pusher"
)

// Notices to the root user (a channel the relay disabled or enabled on its
// own) go the way One API sends them: to Message Pusher when
// MessagePusherAddress is set, else by email to root's address.
func init() {
	defineOptions(map[string]OptionDef{
		"MessagePusherAddress": {Kind: OptString, Check: checkPusherAddress},
		"MessagePusherToken":   {Kind: OptString, Secret: true},
	})
}

func checkPusherAddress(v string) error {
	if v == "" || pusher.ValidAddress(v) {
		return nil
	}
	return errors.New("the Message Pusher address must be an http or https URL, such as https://push.example.com/push/root")
}

// MailSettings are the SMTP options of the snapshot.
func (o *OptionSnapshot) MailSettings() mail.Settings {
	return mail.Settings{
		Server:  strings.TrimSpace(o.String("SMTPServer")),
		Port:    int(o.Int("SMTPPort")),
		Account: o.String("SMTPAccount"),
		Token:   o.String("SMTPToken"),
		From:    o.String("SMTPFrom"),
	}
}

// RootEmail is the email address of the first root user ("" when root
// has none).
func (s *Store) RootEmail(ctx context.Context) (string, error) {
	var u User
	err := s.DB.WithContext(ctx).Select("id", "email").Where("role >= ?", RoleRoot).Order("id").First(&u).Error
	if err != nil {
		if notFound(err) {
			return "", nil
		}
		return "", errs.Internal(err)
	}
	return u.Email, nil
}
