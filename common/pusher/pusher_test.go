package pusher

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSendSpeaksMessagePushersFormat: one JSON POST with the token, and
// each way the server can refuse comes back as an error with its reason.
func TestSendSpeaksMessagePushersFormat(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		switch got["token"] {
		case "good":
			w.Write([]byte(`{"success":true,"message":"ok"}`))
		case "redirect":
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		case "html":
			w.Write([]byte(`<html>hi</html>`))
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"success":false,"message":"database down"}`))
		default:
			w.Write([]byte(`{"success":false,"message":"无效的 token"}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	m := Message{Title: "Channel «a» (#3) was disabled", Description: "short", Content: "long ✓"}
	if err := Send(ctx, srv.URL+"/push/root", "good", m); err != nil {
		t.Fatal(err)
	}
	if got["title"] != m.Title || got["description"] != "short" || got["content"] != "long ✓" || got["token"] != "good" {
		t.Fatalf("server got %v", got)
	}
	for token, want := range map[string]string{"bad": "无效的 token", "500": "database down", "html": "not Message Pusher's JSON", "redirect": "status 302"} {
		if err := Send(ctx, srv.URL, token, m); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("token %s: err %v, want %q", token, err, want)
		}
	}
	for _, addr := range []string{"", "ftp://x.example", "push.example.com", "http://user:pw@x.example", "http://"} {
		if ValidAddress(addr) || Send(ctx, addr, "good", m) == nil {
			t.Fatalf("address %q accepted", addr)
		}
	}
}
