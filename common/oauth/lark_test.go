package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"switchyard/common/oauth"
	"switchyard/internal/fakelark"
)

const larkRedirect = "https://console.example.com/oauth/lark"

// TestLarkSignIn pins Lark's web flow as a sign-in reads it: a code is
// traded for the account; Lark's refusals in both its error shapes (RFC
// 6749's and its envelope) are a 400 naming the reason; Lark away or
// answering nonsense is a 502 that names no secret.
func TestLarkSignIn(t *testing.T) {
	fl := fakelark.Start(larkRedirect)
	t.Cleanup(fl.Close)
	l := oauth.Lark{PassportURL: fl.URL + "/", ClientID: fakelark.ClientID, ClientSecret: fakelark.ClientSecret, RedirectURL: larkRedirect}
	ctx := context.Background()
	zhang := fakelark.Account{OpenID: "ou_7d8a6e6df7621556ce0d21922b676706", UnionID: "on_1", Name: "张三", EnName: "San Zhang", Email: "zhang@example.com"}

	u, err := l.User(ctx, fl.Code(zhang))
	if err != nil || u.OpenID != zhang.OpenID || u.Name != "张三" || u.EnName != "San Zhang" || u.UnionID != "on_1" {
		t.Fatalf("user %+v, %v", u, err)
	}
	code := fl.Code(zhang)
	if _, err := l.User(ctx, code); err != nil {
		t.Fatal(err)
	}
	_, err = l.User(ctx, code) // codes work once
	wantErr(t, err, 400, "lark_oauth_refused", "invalid_grant")

	other := l
	other.RedirectURL = "https://elsewhere.example.com/oauth/lark"
	_, err = other.User(ctx, fl.Code(zhang))
	wantErr(t, err, 400, "lark_oauth_refused", "invalid_grant")

	wrong := l
	wrong.ClientSecret = "wrong"
	_, err = wrong.User(ctx, fl.Code(zhang))
	wantErr(t, err, 400, "lark_oauth_refused", "invalid_client")

	fl.Refuse(20010, "user has no permission to use this app")
	_, err = l.User(ctx, fl.Code(zhang))
	wantErr(t, err, 400, "lark_oauth_refused", "code 20010")
	fl.Refuse(0, "")

	fl.Break()
	_, err = l.User(ctx, fl.Code(zhang))
	wantErr(t, err, 502, "", "Lark")
	fl.Close()
	_, err = l.User(ctx, "lark-code-1")
	if e := wantErr(t, err, 502, "", "could not reach Lark"); strings.Contains(e.PublicMessage(), fakelark.ClientSecret) || strings.Contains(e.PublicMessage(), "127.0.0.1") {
		t.Fatalf("the error leaks details: %s", e.PublicMessage())
	}
}

// TestLarkAnswersBounded pins what is believed of odd answers: a userinfo
// in Lark's error envelope, or without a usable open_id, is a 502; a
// refusal whose reason is not a plain word (an echoed secret, say) is
// not repeated.
func TestLarkAnswersBounded(t *testing.T) {
	var mu sync.Mutex
	answers := map[string]string{}
	set := func(k, v string) { mu.Lock(); answers[k] = v; mu.Unlock() }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			if strings.Contains(r.Header.Get("Content-Type"), "json") && answers["token"] != "" {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(answers["token"]))
				return
			}
			w.Write([]byte(`{"access_token":"u-1","token_type":"Bearer"}`))
			return
		}
		w.Write([]byte(answers["userinfo"]))
	}))
	t.Cleanup(srv.Close)
	l := oauth.Lark{PassportURL: srv.URL, ClientID: "cli_x", ClientSecret: "lark-secret-value", RedirectURL: larkRedirect}
	for _, tc := range []struct{ name, userinfo, part string }{
		{"envelope", `{"code":99991672,"msg":"no permission"}`, "error code 99991672"},
		{"no open_id", `{"name":"张三"}`, "no usable open_id"},
		{"long open_id", `{"open_id":"` + strings.Repeat("o", 65) + `"}`, "no usable open_id"},
		{"not json", `<html></html>`, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set("userinfo", tc.userinfo)
			_, err := l.User(context.Background(), "c")
			wantErr(t, err, 502, "", tc.part)
		})
	}
	set("token", `{"error":"bad client lark-secret-value","error_description":"lark-secret-value"}`)
	_, err := l.User(context.Background(), "c")
	if e := wantErr(t, err, 400, "lark_oauth_refused", "did not explain"); strings.Contains(e.PublicMessage(), "lark-secret-value") {
		t.Fatalf("the secret leaks: %s", e.PublicMessage())
	}
	set("token", `{"code":20003,"error":"invalid_grant","error_description":"The code has expired."}`)
	_, err = l.User(context.Background(), "c")
	wantErr(t, err, 400, "lark_oauth_refused", "(invalid_grant)")
}
