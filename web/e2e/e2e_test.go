// Package e2e runs the console in headless Chromium against a real
// Switchyard on SQLite, driven by playwright-core under Node.js:
//
//   - console.mjs, a newcomer's first hour against the real binary started
//     fresh and internal/fakeupstream: root signs in with the printed
//     one-time password and changes it, adds a channel and tests it with a
//     chosen model, creates a token, chats in the playground (streamed,
//     billed, logged), reads the call's stored content in the logs and sees
//     the quota drop; a user registers and tops up; then the same in
//     Chinese, checking that no page shows an English server sentence;
//   - email.mjs, the mail flows against internal/smtptest: register with an
//     emailed code, reset the password by the emailed link;
//   - turnstile.mjs, sign-up with the Turnstile check on, against a stand-in
//     siteverify.
//
// They need node and npm on PATH and Chromium at /usr/bin/chromium (or
// $CHROMIUM; e2e/install-chromium.sh installs it). The screenshots of a
// failed step are left in web/e2e/screenshots (or $E2E_SCREENSHOT_DIR).
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/internal/fakegithub"
	"switchyard/internal/fakelark"
	"switchyard/internal/fakeoidc"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/fakewechat"
	"switchyard/internal/smtptest"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// node runs one of the flow scripts with env added, failing the test with
// its output when the flow fails.
func node(t *testing.T, script string, env ...string) {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH; the console's browser tests need Node.js 18 or later")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (run web/e2e/install-chromium.sh): %v", chromium, err)
	}
	webDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ensureModules(t, webDir)
	shots := os.Getenv("E2E_SCREENSHOT_DIR")
	if shots == "" {
		shots = filepath.Join(webDir, "e2e", "screenshots")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, filepath.Join("e2e", script))
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), append(env, "SCREENSHOT_DIR="+shots, "CHROMIUM="+chromium)...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", script, out)
	if err != nil {
		t.Fatalf("%s failed (%v); screenshots of the failed step are in %s", script, err, shots)
	}
}

// ensureModules installs playwright-core with the rest of web/'s
// dependencies when a fresh clone has none yet.
func ensureModules(t *testing.T, webDir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err == nil {
		return
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	install.Dir = webDir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", webDir, err, out)
	}
}

// fresh is a Switchyard binary started the way the README says, on a new
// SQLite file: what a newcomer runs.
type fresh struct {
	url          string
	rootPassword string
}

// startFresh builds the binary, starts it with no INITIAL_ROOT_PASSWORD
// and reads the console's address and root's one-time password from the
// plain-text welcome it prints, as a newcomer does.
func startFresh(t *testing.T) fresh {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchyard")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	// Only what a newcomer's shell would set, plus test speed-ups: nothing
	// of the test environment (INITIAL_ROOT_PASSWORD, SQL_DSN, Redis) leaks in.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"HOST=127.0.0.1", "PORT=0", "SQLITE_PATH=" + filepath.Join(dir, "switchyard.db"),
		"BCRYPT_COST=4", "GLOBAL_API_RATE_LIMIT=0", "GLOBAL_WEB_RATE_LIMIT=0", "CRITICAL_RATE_LIMIT=0",
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	found := make(chan fresh, 1)
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		var f fresh
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log.WriteString(line + "\n")
			mu.Unlock()
			trimmed := strings.TrimSpace(line)
			if u, ok := strings.CutPrefix(trimmed, "Switchyard is running. Open the console at "); ok {
				f.url = strings.TrimRight(u, "/")
			}
			if p, ok := strings.CutPrefix(trimmed, "password: "); ok {
				f.rootPassword = p
			}
			if f.url != "" && f.rootPassword != "" {
				found <- f
				f = fresh{}
			}
		}
	}()
	select {
	case f := <-found:
		return f
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the first start printed no console address and root password within 60s:\n%s", log.String())
	}
	return fresh{}
}

func TestConsoleInChromium(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	t.Cleanup(up.Close)
	app := startFresh(t)

	env := []string{"BASE_URL=" + app.url, "ROOT_PASSWORD=" + app.rootPassword, "UPSTREAM_URL=" + up.URL}
	// README_SHOTS=$PWD/docs/screenshots retakes the README's pictures
	// from the data this flow makes.
	if dir := os.Getenv("README_SHOTS"); dir != "" {
		env = append(env, "README_SHOTS="+dir)
	}
	node(t, "console.mjs", env...)
	if up.CallsTo("/v1/chat/completions") == 0 {
		t.Fatal("the flow passed but the upstream saw no chat completion")
	}
}

func TestConsoleMailFlows(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	root := app.Root(t)
	mail := root.StartMail()
	root.SetOption("EmailVerificationEnabled", "true")
	// Reset links must lead back to this server.
	root.SetOption("ServerAddress", app.URL)

	node(t, "email.mjs",
		"BASE_URL="+app.URL,
		"MAILBOX_URL="+mailbox(t, mail),
	)
}

// mailbox serves the text of the next mail the app sent, waiting up to ten
// seconds, or 404 when none comes.
func mailbox(t *testing.T, mail *smtptest.Server) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(10 * time.Second)
		for mail.Pending() == 0 {
			if time.Now().After(deadline) {
				http.Error(w, "no mail arrived within 10s", http.StatusNotFound)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		// A message is queued, so Next returns at once and cannot fail the
		// test from this goroutine.
		fmt.Fprint(w, mail.Next(t).Text())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// goodToken is the only Turnstile token the stand-in verifier accepts.
const goodToken = "e2e-human-token"

func TestConsoleGitHubSignIn(t *testing.T) {
	gh := fakegithub.Start("")
	t.Cleanup(gh.Close)
	app := testkit.Start(t, "sqlite", map[string]string{"GITHUB_URL": gh.URL, "GITHUB_API_URL": gh.URL + "/api"})
	gh.SetRedirectURI(app.URL + "/oauth/github")
	root := app.Root(t)
	root.SetOption("GitHubClientId", fakegithub.ClientID)
	root.SetOption("GitHubClientSecret", fakegithub.ClientSecret)
	root.SetOption("GitHubOAuthEnabled", "true")
	member := app.NewUser(t, model.RoleCommon)
	admin := app.NewUser(t, model.RoleAdmin)
	// The visitor, then the member's bind, then the member's sign-in.
	gh.Approve(fakegithub.Account{ID: 501, Login: "e2e-visitor", Name: "E2E Visitor"}, fakegithub.Account{ID: 502, Login: "e2e-member"})

	node(t, "outside.mjs",
		"BASE_URL="+app.URL, "PROVIDER=github", "PROVIDER_NAME=GitHub", "VISITOR_ID=501",
		"USERNAME="+member.Username, "PASSWORD=password-"+member.Username, "BIND_ID=502",
		"ADMIN_USERNAME="+admin.Username, "ADMIN_PASSWORD=password-"+admin.Username,
	)
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideGitHub, "501"); err != nil || u.Username != "github_e2e-visitor" {
		t.Fatalf("the visitor's account: %+v, %v", u, err)
	}
	// The member bound GitHub 502 and signed in with it; the admin then
	// unbound it.
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideGitHub, "502"); err == nil {
		t.Fatalf("GitHub 502 is still bound to %+v after the admin unbound it", u)
	}
}

func TestConsoleOIDCSignIn(t *testing.T) {
	idp := fakeoidc.Start("")
	t.Cleanup(idp.Close)
	app := testkit.Start(t, "sqlite", nil)
	idp.SetRedirectURI(app.URL + "/oauth/oidc")
	root := app.Root(t)
	for k, v := range map[string]string{
		"ServerAddress": app.URL, "OidcClientId": fakeoidc.ClientID, "OidcClientSecret": fakeoidc.ClientSecret,
		"OidcAuthorizationEndpoint": idp.URL + "/authorize", "OidcTokenEndpoint": idp.URL + "/token",
		"OidcUserinfoEndpoint": idp.URL + "/userinfo", "OidcEnabled": "true",
	} {
		root.SetOption(k, v)
	}
	member := app.NewUser(t, model.RoleCommon)
	idp.Approve(fakeoidc.Account{Sub: "visitor-sub", PreferredUsername: "visitor", Email: "visitor@example.com", EmailVerified: true},
		fakeoidc.Account{Sub: "member-sub"})

	node(t, "outside.mjs",
		"BASE_URL="+app.URL, "PROVIDER=oidc", "PROVIDER_NAME=OpenID Connect", "VISITOR_ID=visitor-sub",
		"USERNAME="+member.Username, "PASSWORD=password-"+member.Username, "BIND_ID=member-sub",
	)
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideOIDC, "visitor-sub"); err != nil || u.Username != "oidc_visitor" || u.Email != "visitor@example.com" {
		t.Fatalf("the visitor's account: %+v, %v", u, err)
	}
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideOIDC, "member-sub"); err != nil || u.ID != member.UserID {
		t.Fatalf("member-sub is bound to %+v (%v), want user %d", u, err, member.UserID)
	}
}

func TestConsoleLarkSignIn(t *testing.T) {
	fl := fakelark.Start("")
	t.Cleanup(fl.Close)
	app := testkit.Start(t, "sqlite", map[string]string{"LARK_URL": fl.URL, "LARK_PASSPORT_URL": fl.URL})
	fl.SetRedirectURI(app.URL + "/oauth/lark")
	root := app.Root(t)
	root.SetOption("ServerAddress", app.URL)
	root.SetOption("LarkClientId", fakelark.ClientID)
	root.SetOption("LarkClientSecret", fakelark.ClientSecret)
	member := app.NewUser(t, model.RoleCommon)
	fl.Approve(fakelark.Account{OpenID: "ou_visitor", Name: "访客", EnName: "Visitor"}, fakelark.Account{OpenID: "ou_member"})

	node(t, "outside.mjs",
		"BASE_URL="+app.URL, "PROVIDER=lark", "PROVIDER_NAME=Lark", "VISITOR_ID=ou_visitor",
		"USERNAME="+member.Username, "PASSWORD=password-"+member.Username, "BIND_ID=ou_member",
	)
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideLark, "ou_visitor"); err != nil || u.Username != "lark_visitor" || u.DisplayName != "访客" {
		t.Fatalf("the visitor's account: %+v, %v", u, err)
	}
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideLark, "ou_member"); err != nil || u.ID != member.UserID {
		t.Fatalf("ou_member is bound to %+v (%v), want user %d", u, err, member.UserID)
	}
}

func TestConsoleWeChatSignIn(t *testing.T) {
	ws := fakewechat.Start()
	t.Cleanup(ws.Close)
	app := testkit.Start(t, "sqlite", nil)
	root := app.Root(t)
	root.SetOption("WeChatServerAddress", ws.URL)
	root.SetOption("WeChatServerToken", fakewechat.Token)
	root.SetOption("WeChatAccountQRCodeImageURL", ws.QRCodeURL())
	root.SetOption("WeChatAuthEnabled", "true")
	member := app.NewUser(t, model.RoleCommon)

	node(t, "wechat.mjs",
		"BASE_URL="+app.URL, "VISITOR_CODE="+ws.Code("oE2EVisitor"), "VISITOR_ID=oE2EVisitor",
		"USERNAME="+member.Username, "PASSWORD=password-"+member.Username, "BIND_CODE="+ws.Code("oE2EMember"), "BIND_ID=oE2EMember",
	)
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideWeChat, "oE2EVisitor"); err != nil || !strings.HasPrefix(u.Username, "wechat_") {
		t.Fatalf("the visitor's account: %+v, %v", u, err)
	}
	if u, err := app.Store.UserByOutsideID(t.Context(), model.OutsideWeChat, "oE2EMember"); err != nil || u.ID != member.UserID {
		t.Fatalf("oE2EMember is bound to %+v (%v), want user %d", u, err, member.UserID)
	}
}

func TestConsoleTurnstile(t *testing.T) {
	// A stand-in for Cloudflare's siteverify: the same form in, the same
	// JSON out.
	verifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("secret") != "e2e-secret" {
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"invalid-input-secret"}})
			return
		}
		if r.PostForm.Get("response") != goodToken {
			json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": []string{"invalid-input-response"}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"success": true, "error-codes": []string{}})
	}))
	t.Cleanup(verifier.Close)
	app := testkit.Start(t, "sqlite", map[string]string{"TURNSTILE_VERIFY_URL": verifier.URL})
	root := app.Root(t)
	root.SetOption("TurnstileSiteKey", "e2e-site-key")
	root.SetOption("TurnstileSecretKey", "e2e-secret")
	root.SetOption("TurnstileCheckEnabled", "true")

	node(t, "turnstile.mjs",
		"BASE_URL="+app.URL,
		"GOOD_TOKEN="+goodToken,
		"SITE_KEY=e2e-site-key",
	)
}
