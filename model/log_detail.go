package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Top-up, manage and system log rows carry their sentence as a code with
// parameters, so the console renders it in the reader's language; Content
// keeps the English sentence for scripts and One API's clients. The
// console's table of these codes (web/src/messages.ts) is checked against
// this one when the console is built.
var logTemplates = map[string]string{
	"root_starting_quota": "starting quota for root",
	"new_user_quota":      "starting quota for a new user",
	"invitee_reward":      "reward for registering with an invite code",
	"inviter_reward":      "reward for inviting {username}",
	"admin_set_quota":     "admin #{admin} set the quota from {from} to {to}",
	"code_redeemed":       "redeemed code #{id} ({name})",
	"admin_redeemed_code": "admin #{admin} redeemed code #{id} ({name}) created by user #{creator}, crediting themselves",
	"codes_minted":        "admin #{admin} created {count} redemption code(s) \"{name}\" worth {quota} each (ids {first}..{last})",
}

// LogCodes lists the codes of logTemplates, sorted.
func LogCodes() []string {
	out := make([]string, 0, len(logTemplates))
	for c := range logTemplates {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// describe sets l's code, parameters and English content. An unknown code
// is a programming error caught by TestLogTemplatesCoverEveryUse.
func (l *Log) describe(code string, params map[string]any) *Log {
	text := logTemplates[code]
	for k, v := range params {
		text = strings.ReplaceAll(text, "{"+k+"}", fmt.Sprint(v))
	}
	l.Code, l.Content = code, text
	if len(params) > 0 {
		b, _ := json.Marshal(params)
		l.Params = string(b)
	}
	return l
}
