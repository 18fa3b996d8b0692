package controller

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"switchyard/common/errs"
)

// Limits on user fields. Usernames are ASCII so they are easy to type in a
// login form and in scripts; display names may be any printable text.
const (
	minUsername    = 3
	maxUsername    = 32
	minPassword    = 8
	maxPassword    = 64
	maxDisplayName = 64
	maxEmail       = 128
)

func validUsername(name string) error {
	if len(name) < minUsername || len(name) > maxUsername {
		return errs.BadRequest("username must be %d to %d characters", minUsername, maxUsername).WithParam("username")
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.')) {
			return errs.BadRequest("username may hold only letters a-z, digits, '_', '-' and '.'").WithParam("username")
		}
	}
	return nil
}

func validPassword(pw string) error {
	if len(pw) < minPassword || len(pw) > maxPassword {
		return errs.BadRequest("password must be %d to %d bytes", minPassword, maxPassword).WithParam("password")
	}
	return nil
}

func validDisplayName(name string) error {
	if utf8.RuneCountInString(name) > maxDisplayName || !utf8.ValidString(name) {
		return errs.BadRequest("display name must be valid text of at most %d characters", maxDisplayName).WithParam("display_name")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errs.BadRequest("display name may not hold control characters").WithParam("display_name")
		}
	}
	return nil
}

// validEmail checks an address and returns it trimmed and lower-cased.
func validEmail(addr string) (string, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" || len(addr) > maxEmail {
		return "", errs.BadRequest("email must be 1 to %d characters", maxEmail).WithParam("email")
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr || !strings.Contains(addr[strings.LastIndexByte(addr, '@')+1:], ".") {
		return "", errs.BadRequest("%q is not an email address", addr).WithParam("email")
	}
	return addr, nil
}
