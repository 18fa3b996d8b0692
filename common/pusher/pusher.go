// Package pusher sends notices to a Message Pusher server
// (github.com/songquanpeng/message-pusher), as One API does when its
// MessagePusherAddress option is set: one POST of a JSON message to the
// address, answered {"success": bool, "message": string}. The address and
// token are passed in on every call; nothing here reads options.
package pusher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Timeout bounds one send when the caller's context has no earlier end.
const Timeout = 10 * time.Second

// maxReply caps how much of the server's answer is read.
const maxReply = 64 << 10

// Message is one notice. Description is the short form some push
// channels show; Content the whole text (Markdown on most channels).
type Message struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Content     string `json:"content"`
	// URL, when set, is a link the notice opens.
	URL string `json:"url,omitempty"`
}

// wire is what the server reads: the message and the token it checks.
type wire struct {
	Message
	Token string `json:"token,omitempty"`
}

// ValidAddress reports whether address is an http or https URL with a
// host, as the MessagePusherAddress option must be (Message Pusher's push
// URL, such as https://push.example.com/push/root).
func ValidAddress(address string) bool {
	u, err := url.Parse(address)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// Send posts m to address with token; a refusal (a non-2xx status, or
// success false) comes back as an error carrying the server's message.
// Redirects are not followed: the token would go wherever they point.
func Send(ctx context.Context, address, token string, m Message) error {
	if !ValidAddress(address) {
		return errors.New("pusher: the address is not an http or https URL")
	}
	body, err := json.Marshal(wire{Message: m, Token: token})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("pusher: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("pusher: reading the answer: %w", err)
	}
	var res struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	decodeErr := json.Unmarshal(raw, &res)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		if decodeErr == nil && res.Message != "" {
			return fmt.Errorf("pusher: status %d: %s", resp.StatusCode, res.Message)
		}
		return fmt.Errorf("pusher: status %d", resp.StatusCode)
	case decodeErr != nil:
		return errors.New("pusher: the answer is not Message Pusher's JSON")
	case !res.Success:
		return fmt.Errorf("pusher: refused: %s", res.Message)
	}
	return nil
}
