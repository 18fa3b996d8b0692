package controller_test

import (
	"testing"

	"switchyard/internal/testkit"
)

func TestSiteTextAndStatus(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		anon := app.Anon(t)
		about := "# About\n<script>alert('x')</script> 关于我们 '; DROP TABLE options;--"
		root.SetOption("About", about)
		root.SetOption("HomePageContent", "https://example.com/home")
		root.SetOption("PasswordRegisterEnabled", "false")
		root.SetOption("EmailVerificationEnabled", "true")
		for path, want := range map[string]string{"/api/about": about, "/api/home_page_content": "https://example.com/home", "/api/notice": ""} {
			var got string
			anon.Do("GET", path, nil).Want(t, 200, true).Decode(t, &got)
			if got != want {
				t.Fatalf("%s = %q, want %q", path, got, want)
			}
		}
		var status map[string]any
		anon.Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
		if status["password_register_enabled"] != false || status["email_verification"] != true || status["register_enabled"] != true ||
			status["system_name"] != "Switchyard" || status["start_time"] == nil || status["version"] == nil {
			t.Fatalf("status = %v", status)
		}
		// Only root edits options, and a session is not needed to read the site text.
		user := app.NewUser(t, 1)
		user.Do("PUT", "/api/option/", map[string]string{"key": "About", "value": "mine"}).WantFail(t, 403, "permission")
		anon.Do("PUT", "/api/option/", map[string]string{"key": "About", "value": "mine"}).WantFail(t, 401, "not signed in")
		var got string
		anon.Do("GET", "/api/about", nil).Want(t, 200, true).Decode(t, &got)
		if got != about {
			t.Fatal("a refused option write changed About")
		}
	})
}
